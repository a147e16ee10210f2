package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/schemas"
)

// usageError exits with status 2, as a command-line mistake should.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

type conformanceOptions struct {
	tenant, format, out   string
	url, apiKey, provider string
	set                   string
	toolNames             mcpserver.ToolNames
	filter                conformance.Filter
	noRecord              bool
}

func newConformanceCmd(loc func() location) *cobra.Command {
	cmd := &cobra.Command{Use: "conformance", Short: "Prove that providers honour the capability contracts"}
	var o conformanceOptions
	run := &cobra.Command{
		Use:   "run",
		Short: "Run every conformance case against every provider instance",
		Long: "Run conformance cases (written and generated) against provider instances.\n\n" +
			"By default every tenant in the data directory is a provider instance, projectkit:<tenant>,\n" +
			"and each runs on a scratch copy of its database, so a run never changes live data.\n" +
			"With --url the cases run through an MCP client against a remote server instead.\n" +
			"Results are recorded in the control database. Exit status: 0 all passed, 1 any case\n" +
			"failed or errored, 2 usage error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConformance(cmd.Context(), loc(), o, cmd.OutOrStdout())
		},
	}
	f := run.Flags()
	f.StringVar(&o.tenant, "tenant", "", "only this tenant (default: every tenant)")
	f.StringVar(&o.filter.Capability, "capability", "", "only this capability, NAME or NAME@VERSION")
	f.StringVar(&o.filter.Case, "case", "", "only the case with this id")
	f.StringVar(&o.filter.Kind, "kind", "", "only happy, rejection or generated cases")
	f.StringVar(&o.set, "set", "", "only the cases of this capability set's resolvable members, at their resolved versions (the tenant's view of the set with --tenant, else a built-in set)")
	f.StringVar(&o.format, "format", "table", "output: table, json or junit")
	f.StringVar(&o.out, "out", "", "write the output to this file instead of stdout")
	f.StringVar(&o.url, "url", "", "run against a remote MCP server (streamable HTTP) instead of local tenants")
	f.StringVar(&o.apiKey, "api-key", "", "bearer API key for --url (default: $CAPD_API_KEY)")
	f.StringVar(&o.provider, "provider", "remote", "provider instance name to record for --url")
	f.Var(&o.toolNames, "tool-names", "how the server at --url names its tools: dotted (projects.create_task) or underscore (projects_create_task)")
	f.BoolVar(&o.noRecord, "no-record", false, "do not record results in the control database")
	cmd.AddCommand(run)
	return cmd
}

func runConformance(ctx context.Context, l location, o conformanceOptions, stdout io.Writer) error {
	switch o.format {
	case "table", "json", "junit":
	default:
		return usageError("--format must be table, json or junit, not %q", o.format)
	}
	switch o.filter.Kind {
	case "", conformance.KindHappy, conformance.KindRejection, conformance.KindGenerated:
	default:
		return usageError("--kind must be happy, rejection or generated, not %q", o.filter.Kind)
	}
	if o.url == "" && o.toolNames != mcpserver.DottedNames {
		return usageError("--tool-names says how a remote server names its tools; it needs --url")
	}
	if o.url != "" && o.tenant != "" {
		return usageError("--tenant selects local tenants; it cannot be combined with --url")
	}
	a, err := openApp(ctx, appOptions{dataDir: l.dir, store: l.store})
	if err != nil {
		return err
	}
	defer a.Close()
	suite, err := conformance.Load(capabilities.FS, schemas.FS, a.reg)
	if err != nil {
		return err
	}
	if o.filter.Capability != "" {
		ref, err := registry.ParseRef(o.filter.Capability)
		if err != nil {
			return usageError("--capability: %v", err)
		}
		if len(a.reg.VersionsOf(ref.Name)) == 0 {
			return usageError("--capability: no capability named %q; see capd capabilities list", ref.Name)
		}
	}
	cases := suite.Select(o.filter)
	if o.set != "" {
		set, err := findConformanceSet(ctx, a, o.set, o.tenant)
		if err != nil {
			return err
		}
		versions, unresolved := resolveSetVersions(a.reg, set, o.tenant)
		if len(versions) == 0 {
			if len(unresolved) == 0 {
				return usageError("--set %s has no members, so there is nothing to run", o.set)
			}
			return usageError("--set %s: no member resolves, so there is nothing to run (%s)", o.set, strings.Join(unresolved, ", "))
		}
		cases = slices.DeleteFunc(cases, func(c *conformance.Case) bool { return !versions[c.Version] })
	}
	if len(cases) == 0 {
		return usageError("no case matches the filters")
	}

	runner := &conformance.Runner{Suite: suite}
	started := time.Now()
	runID := conformance.NewRunID(started)
	var results []capability.ConformanceResult
	if o.url != "" {
		key := o.apiKey
		if key == "" {
			key = os.Getenv("CAPD_API_KEY")
		}
		target, err := conformance.NewRemote(ctx, o.url, key, o.provider)
		if err != nil {
			return err
		}
		target.ToolName = o.toolNames.Tool
		results = runner.Run(ctx, runID, target, cases)
		target.Close()
	} else {
		slugs, err := conformanceTenants(ctx, a, o.tenant)
		if err != nil {
			return err
		}
		if results, err = runner.RunLocal(ctx, runID, a.db.Scratch(), slugs, cases); err != nil {
			return err
		}
	}
	if !o.noRecord {
		if err := a.db.Control().RecordConformance(ctx, results); err != nil {
			return err
		}
	}

	w := stdout
	if o.out != "" {
		file, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	rep := conformance.NewReport(runID, started, time.Now(), results)
	switch o.format {
	case "json":
		err = conformance.WriteJSON(w, rep)
	case "junit":
		err = conformance.WriteJUnit(w, rep)
	default:
		err = conformance.WriteTable(w, results)
	}
	if err != nil {
		return err
	}
	if s := rep.Summary; !s.OK() {
		if o.format != "table" || o.out != "" {
			fmt.Fprintf(stdout, "%d passed, %d failed, %d errored\n", s.Passed, s.Failed, s.Errored)
		}
		return &exitError{code: 1, err: fmt.Errorf("conformance: %d failed, %d errored of %d", s.Failed, s.Errored, s.Total)}
	}
	return nil
}

// conformanceTenants returns the tenants to run against: the one named, or
// every tenant in the data directory.
func conformanceTenants(ctx context.Context, a *app, only string) ([]string, error) {
	if only != "" {
		if _, err := a.db.Control().FindTenant(ctx, only); err != nil {
			if errors.Is(err, capability.ErrNotFound) {
				return nil, usageError("no tenant %q; see capd tenants list", only)
			}
			return nil, err
		}
		return []string{only}, nil
	}
	ts, err := a.db.Control().ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, usageError("no tenants in this data directory: create one with capd tenants create, or use --url")
	}
	slugs := make([]string, len(ts))
	for i, t := range ts {
		slugs[i] = t.Slug
	}
	return slugs, nil
}

// resolveSetVersions returns the capability versions set resolves to for
// tenant ("" for no tenant: no scope check), and the members that do not
// resolve, as "ref (reason)".
func resolveSetVersions(reg *registry.Registry, set *capability.CapabilitySet, tenant string) (map[*registry.Version]bool, []string) {
	var p *capability.Principal
	if tenant != "" {
		p = cliPrincipal(tenant)
	}
	versions := map[*registry.Version]bool{}
	var unresolved []string
	for _, r := range sets.Resolve(reg, set, p) {
		if r.Version == nil {
			unresolved = append(unresolved, fmt.Sprintf("%s (%s)", r.Member.Ref(), r.Reason))
			continue
		}
		versions[r.Version] = true
	}
	return versions, unresolved
}

// findConformanceSet finds the set conformance run --set names: the
// tenant's view when tenant is given, else a built-in set.
func findConformanceSet(ctx context.Context, a *app, name, tenant string) (*capability.CapabilitySet, error) {
	if tenant != "" {
		if _, err := conformanceTenants(ctx, a, tenant); err != nil {
			return nil, err
		}
		set, err := a.sets.Find(ctx, tenant, name)
		if capability.ErrorCode(err) == capability.CodeNotFound {
			return nil, usageError("--set: %v (capd sets list --tenant %s lists the sets tenant %s can use)", err, tenant, tenant)
		}
		return set, err
	}
	for _, b := range a.sets.BuiltIn {
		if b.Name == name {
			return b, nil
		}
	}
	return nil, usageError("--set: no built-in set %q; give --tenant to use a tenant's set (capd sets list --tenant SLUG)", name)
}
