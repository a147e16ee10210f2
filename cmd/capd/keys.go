package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

func newKeysCmd(data func() string) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys"}
	var tenant, scopes string
	var expiresIn time.Duration
	create := &cobra.Command{
		Use:   "create --tenant SLUG [--scopes projects.read,projects.write]",
		Short: "Create an API key; prints only the token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if tenant == "" {
				return errors.New("--tenant is required")
			}
			sc, err := capability.ParseScopes(scopes)
			if err != nil {
				return err
			}
			var expires time.Time
			if expiresIn < 0 {
				return errors.New("--expires-in must be positive")
			}
			if expiresIn > 0 {
				expires = time.Now().Add(expiresIn)
			}
			return withStore(cmd, data, func(db *sqlite.DB) error {
				token, _, err := db.Control().CreateKey(cmd.Context(), tenant, sc, expires)
				if err != nil {
					return err
				}
				// Only the token goes to stdout, so scripts can capture it.
				fmt.Fprintln(cmd.OutOrStdout(), token)
				return nil
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "tenant slug")
	create.Flags().StringVar(&scopes, "scopes", capability.JoinScopes(capability.AllScopes), "comma-separated scopes")
	create.Flags().DurationVar(&expiresIn, "expires-in", 0, "lifetime such as 720h (default: never expires)")

	var listTenant string
	list := &cobra.Command{
		Use:   "list --tenant SLUG",
		Short: "List a tenant's keys (prefixes only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listTenant == "" {
				return errors.New("--tenant is required")
			}
			return withStore(cmd, data, func(db *sqlite.DB) error {
				keys, err := db.Control().ListKeys(cmd.Context(), listTenant)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "PREFIX\tSCOPES\tCREATED\tEXPIRES\tSTATE")
				for _, k := range keys {
					state := "active"
					switch {
					case !k.RevokedAt.IsZero():
						state = "revoked"
					case !k.ExpiresAt.IsZero() && time.Now().After(k.ExpiresAt):
						state = "expired"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.Prefix, capability.JoinScopes(k.Scopes), k.CreatedAt.Format("2006-01-02 15:04"), orNever(k.ExpiresAt), state)
				}
				return w.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "tenant slug")

	revoke := &cobra.Command{
		Use:   "revoke PREFIX",
		Short: "Revoke a key; effective on its next request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, data, func(db *sqlite.DB) error {
				if err := db.Control().RevokeKey(cmd.Context(), args[0]); err != nil {
					if errors.Is(err, capability.ErrNotFound) {
						return fmt.Errorf("no key with prefix %q; see capd keys list --tenant SLUG", args[0])
					}
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("2006-01-02 15:04")
}
