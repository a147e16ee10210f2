package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
)

func newStaffCmd(loc func() location) *cobra.Command {
	cmd := &cobra.Command{Use: "staff", Short: "Manage a tenant's staff (people tasks can be assigned to)"}
	var tenant, email, role string
	add := &cobra.Command{
		Use:   "add --tenant SLUG NAME",
		Short: "Add a staff member; prints the staff id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if tenant == "" {
				return errors.New("--tenant is required")
			}
			name := strings.TrimSpace(args[0])
			if name == "" || len(name) > 200 {
				return errors.New("NAME must be 1 to 200 characters")
			}
			return withStore(cmd, loc, func(db storage) error {
				store, err := db.Tenants().Tenant(cmd.Context(), tenant)
				if err != nil {
					if errors.Is(err, capability.ErrNotFound) {
						return fmt.Errorf("no tenant %q; see capd tenants list", tenant)
					}
					return err
				}
				s := &capability.Staff{Name: name, Email: email, Role: role}
				if err := store.Update(cmd.Context(), func(tx capability.Tx) error { return tx.CreateStaff(cmd.Context(), s) }); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), s.ID)
				return nil
			})
		},
	}
	add.Flags().StringVar(&tenant, "tenant", "", "tenant slug")
	add.Flags().StringVar(&email, "email", "", "email address")
	add.Flags().StringVar(&role, "role", "", "role, e.g. backend engineer")
	cmd.AddCommand(add)
	return cmd
}
