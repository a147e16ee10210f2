package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
)

func newAuditCmd(loc func() location) *cobra.Command {
	var tenant string
	var since time.Duration
	var limit int
	cmd := &cobra.Command{
		Use:   "audit --tenant SLUG [--since 24h]",
		Short: "Show a tenant's call log: key, capability@version, outcome, duration, replay",
		Long: "Show every call recorded for a tenant, newest first: when, the key prefix, the capability\n" +
			"version, the outcome (ok or the error code), the duration and whether an idempotency key\n" +
			"replayed a stored result. The server writes the log in batches every 200 ms.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if tenant == "" {
				return usageError("--tenant is required")
			}
			return withStore(cmd, loc, func(db storage) error {
				if _, err := db.Control().FindTenant(cmd.Context(), tenant); err != nil {
					if errors.Is(err, capability.ErrNotFound) {
						return usageError("no tenant %q; see capd tenants list", tenant)
					}
					return err
				}
				var from time.Time
				if since > 0 {
					from = time.Now().Add(-since)
				}
				calls, err := db.Control().ListCalls(cmd.Context(), tenant, from, limit)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "WHEN\tKEY\tCAPABILITY\tOUTCOME\tMS\tREPLAY")
				for _, c := range calls {
					replay := ""
					if c.Replayed {
						replay = "replay"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.1f\t%s\n", c.At.Local().Format("2006-01-02 15:04:05"), c.KeyPrefix, c.Capability, c.Outcome,
						float64(c.Duration.Microseconds())/1000, replay)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant slug")
	cmd.Flags().DurationVar(&since, "since", 0, "only calls in this past duration, e.g. 24h (default: all)")
	cmd.Flags().IntVar(&limit, "limit", 1000, "most calls to show")
	return cmd
}
