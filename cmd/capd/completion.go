package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
)

// Shell completion: cobra's `capd completion bash|zsh|fish|powershell`
// writes the script; the script asks the binary (`capd __complete ...`)
// for commands, flags and the values registered here.

// formatValues are the --format choices, by command path; a path also
// covers its subcommands (every capd sets subcommand with --format).
var formatValues = map[string][]string{
	"capd version":         {"text", "json"},
	"capd bench":           {"text", "json"},
	"capd conformance run": {"table", "json", "junit"},
	"capd sets":            {"text", "json"},
}

// choice is the type of a flag whose Value names its choices, as
// --tool-names's "dotted|underscore" or --log-level's "debug|info|warn|error".
var choice = regexp.MustCompile(`^[a-z0-9-]+(\|[a-z0-9-]+)+$`)

// registerCompletions gives flag values to complete wherever a flag of that
// name or kind exists in the tree, so a new command with --tenant or
// --format, or a new flag whose type lists its choices, gets them too.
func registerCompletions(root *cobra.Command) {
	must(root.RegisterFlagCompletionFunc("store", cobra.FixedCompletions(
		[]cobra.Completion{
			cobra.CompletionWithDesc("sqlite", "SQLite files in --data"),
			cobra.CompletionWithDesc("sqlite:", "SQLite files in another directory"),
			cobra.CompletionWithDesc("postgres://", "a PostgreSQL database several nodes share"),
		}, cobra.ShellCompDirectiveNoSpace)))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		flags := c.LocalNonPersistentFlags()
		if flags.Lookup("tenant") != nil {
			must(c.RegisterFlagCompletionFunc("tenant", completeTenants))
		}
		flags.VisitAll(func(f *pflag.Flag) {
			if choice.MatchString(f.Value.Type()) {
				must(c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(strings.Split(f.Value.Type(), "|"), cobra.ShellCompDirectiveNoFileComp)))
			}
		})
		if flags.Lookup("format") != nil {
			if values := formatsOf(c); values != nil {
				must(c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)))
			}
		}
		switch c.CommandPath() {
		case "capd conformance run":
			must(c.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(
				[]cobra.Completion{conformance.KindHappy, conformance.KindRejection, conformance.KindGenerated}, cobra.ShellCompDirectiveNoFileComp)))
			must(c.RegisterFlagCompletionFunc("capability", completeCapabilities))
		case "capd keys create":
			must(c.RegisterFlagCompletionFunc("scopes", completeScopes))
			must(c.RegisterFlagCompletionFunc("pin", completeCapabilityVersions))
		case "capd capabilities show":
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return completeCapabilities(cmd, args, toComplete)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func must(err error) {
	if err != nil {
		panic(err) // a registration for a flag that does not exist: a bug
	}
}

func formatsOf(c *cobra.Command) []string {
	for p := c; p != nil; p = p.Parent() {
		if v, ok := formatValues[p.CommandPath()]; ok {
			return v
		}
	}
	return nil
}

// completeTenants lists the tenants of the SQLite data directory the
// command would use (--data and --store from the command line, the
// environment or the config file). A directory without a control database
// offers nothing rather than creating one; a PostgreSQL store offers
// nothing rather than connecting over the network at every tab.
func completeTenants(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	const none = cobra.ShellCompDirectiveNoFileComp
	_ = applySettings(cmd, os.Getenv) // a bad setting is reported when the command runs, not at a tab
	data, store := flagString(cmd, "data"), flagString(cmd, "store")
	kind, dir, err := parseStore(store, data)
	if err != nil || kind != "sqlite" {
		return nil, none
	}
	if _, err := os.Stat(filepath.Join(dir, "control.db")); err != nil {
		return nil, none
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := openStorage(ctx, appOptions{dataDir: data, store: store})
	if err != nil {
		return nil, none
	}
	defer db.Close()
	tenants, err := db.Control().ListTenants(ctx)
	if err != nil {
		return nil, none
	}
	var out []cobra.Completion
	for _, t := range tenants {
		if strings.HasPrefix(t.Slug, toComplete) {
			out = append(out, cobra.CompletionWithDesc(t.Slug, t.Name))
		}
	}
	return out, none
}

func flagString(cmd *cobra.Command, name string) string {
	if f := cmd.Flag(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// completeCapabilities offers every capability name and NAME@VERSION.
func completeCapabilities(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	reg, err := loadRegistry()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, name := range reg.Names() {
		if strings.HasPrefix(name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(name, reg.Latest(name).Manifest.Summary))
		}
	}
	versions, _ := completeCapabilityVersions(nil, nil, toComplete)
	return append(out, versions...), cobra.ShellCompDirectiveNoFileComp
}

// completeCapabilityVersions offers every NAME@VERSION, with its status.
func completeCapabilityVersions(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	reg, err := loadRegistry()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, v := range reg.Versions() {
		ref := v.Manifest.Name + "@" + v.Manifest.Version
		if strings.HasPrefix(ref, toComplete) {
			out = append(out, cobra.CompletionWithDesc(ref, string(v.Manifest.Status)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeScopes completes the last item of a comma-separated --scopes.
func completeScopes(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	for _, s := range capability.AllScopes {
		if strings.HasPrefix(string(s), last) && !strings.Contains(","+done, ","+string(s)+",") {
			out = append(out, done+string(s))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
