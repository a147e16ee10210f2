package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
)

func newTenantsCmd(loc func() location) *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "Create and list tenants (organisations with their own database)"}
	var name string
	create := &cobra.Command{
		Use:   "create SLUG",
		Short: "Create a tenant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, loc, func(db storage) error {
				t := &capability.Tenant{Slug: args[0], Name: name}
				if err := db.Control().CreateTenant(cmd.Context(), t); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created tenant %s\nnext: capd keys create --tenant %s --data %s\n", t.Slug, t.Slug, loc().dir)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the slug)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, loc, func(db storage) error {
				ts, err := db.Control().ListTenants(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "SLUG\tNAME\tCREATED")
				for _, t := range ts {
					fmt.Fprintf(w, "%s\t%s\t%s\n", t.Slug, t.Name, t.CreatedAt.Format("2006-01-02 15:04"))
				}
				return w.Flush()
			})
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}
