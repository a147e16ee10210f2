package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/mcpserver"
)

func newStdioCmd(loc func() location) *cobra.Command {
	var tenant, setName string
	var names mcpserver.ToolNames
	var logging logOptions
	cmd := &cobra.Command{
		Use:   "stdio [--tenant SLUG]",
		Short: "Serve MCP over stdin/stdout for desktop clients (key from CAPD_API_KEY)",
		Long: "Serve MCP over stdin/stdout. The API key comes from the CAPD_API_KEY environment variable;\n" +
			"for local use --tenant SLUG grants full access to that tenant instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := openApp(ctx, appOptions{dataDir: loc().dir, store: loc().store, logging: logging})
			if err != nil {
				return err
			}
			defer a.Close()
			principal, err := stdioPrincipal(ctx, a, os.Getenv("CAPD_API_KEY"), tenant)
			if err != nil {
				return err
			}
			srv := mcpserver.New(a.inv, version, names)
			if setName != "" {
				p, err := principal(ctx)
				if err != nil {
					return err
				}
				set, err := a.sets.Find(ctx, p.Tenant, setName)
				if err != nil {
					return err
				}
				srv = a.setHub.Server(set, names)
			}
			err = srv.ServeStdio(ctx, principal, cmd.InOrStdin(), cmd.OutOrStdout())
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "grant full access to this tenant (local use, instead of CAPD_API_KEY)")
	toolNamesFlag(cmd.Flags(), &names)
	cmd.Flags().StringVar(&setName, "set", "", "serve only this capability set's members, at their resolved versions")
	addLogFlags(cmd.Flags(), &logging)
	return cmd
}

// stdioPrincipal checks the credentials once up front, so a bad key fails
// at start-up with a clear message, and returns the per-request check.
func stdioPrincipal(ctx context.Context, a *app, key, tenant string) (mcpserver.PrincipalFunc, error) {
	switch {
	case key != "" && tenant != "":
		return nil, errors.New("give either CAPD_API_KEY or --tenant, not both")
	case key != "":
		if _, err := a.db.Control().Authenticate(ctx, key); err != nil {
			return nil, fmt.Errorf("CAPD_API_KEY: %w", err)
		}
		return func(ctx context.Context) (capability.Principal, error) {
			return a.db.Control().Authenticate(ctx, key)
		}, nil
	case tenant != "":
		if _, err := a.db.Control().FindTenant(ctx, tenant); err != nil {
			if errors.Is(err, capability.ErrNotFound) {
				return nil, fmt.Errorf("no tenant %q in this data directory; see capd tenants list", tenant)
			}
			return nil, err
		}
		p := capability.Principal{Tenant: tenant, KeyPrefix: "local", Scopes: capability.AllScopes}
		return func(context.Context) (capability.Principal, error) { return p, nil }, nil
	}
	return nil, errors.New("no credentials: set CAPD_API_KEY to an API key, or pass --tenant SLUG for local full access")
}

// toolNamesFlag adds --tool-names, shared by the MCP transports.
func toolNamesFlag(f *pflag.FlagSet, names *mcpserver.ToolNames) {
	f.Var(names, "tool-names", "how tool names spell capabilities: dotted (projects.create_task) or underscore (projects_create_task) for clients that reject dots")
}
