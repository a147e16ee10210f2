package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

func newKeysCmd(loc func() location) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys"}
	var tenant, scopes string
	var pinRefs []string
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
			pins, err := parsePins(pinRefs)
			if err != nil {
				return err
			}
			return withStore(cmd, loc, func(db storage) error {
				token, key, err := db.Control().CreateKey(cmd.Context(), tenant, sc, expires)
				if err != nil {
					return err
				}
				if len(pins) > 0 {
					if err := db.Control().PinKey(cmd.Context(), key.Prefix, pins); err != nil {
						return err
					}
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
	create.Flags().StringArrayVar(&pinRefs, "pin", nil, "pin a capability version for this key, NAME@VERSION (repeatable): its bare name then resolves to that version")

	var listTenant string
	list := &cobra.Command{
		Use:   "list --tenant SLUG",
		Short: "List a tenant's keys (prefixes only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listTenant == "" {
				return errors.New("--tenant is required")
			}
			return withStore(cmd, loc, func(db storage) error {
				keys, err := db.Control().ListKeys(cmd.Context(), listTenant)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "PREFIX\tSCOPES\tCREATED\tEXPIRES\tSTATE\tPINS")
				for _, k := range keys {
					state := "active"
					switch {
					case !k.RevokedAt.IsZero():
						state = "revoked"
					case !k.ExpiresAt.IsZero() && time.Now().After(k.ExpiresAt):
						state = "expired"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Prefix, capability.JoinScopes(k.Scopes), k.CreatedAt.Format("2006-01-02 15:04"), orNever(k.ExpiresAt), state, formatPins(k.Pins))
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
			return withStore(cmd, loc, func(db storage) error {
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

// parsePins checks each --pin against the published capabilities: it must
// name an exact version that exists and is not retired.
func parsePins(refs []string) (map[string]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	reg, err := loadRegistry()
	if err != nil {
		return nil, err
	}
	pins := map[string]string{}
	for _, s := range refs {
		ref, err := registry.ParseRef(s)
		if err != nil {
			return nil, err
		}
		if ref.Version == "" {
			return nil, fmt.Errorf("--pin %s: give an exact version, NAME@x.y.z", s)
		}
		if _, err := reg.Resolve(ref); err != nil {
			return nil, fmt.Errorf("--pin %s: %w", s, err)
		}
		pins[ref.Name] = ref.Version
	}
	return pins, nil
}

func formatPins(pins map[string]string) string {
	if len(pins) == 0 {
		return "-"
	}
	refs := make([]string, 0, len(pins))
	for name, version := range pins {
		refs = append(refs, name+"@"+version)
	}
	slices.Sort(refs)
	return strings.Join(refs, ",")
}
