package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/internal/tooldef"
	"github.com/capd-dev/capd/schemas"
)

func newCapabilitiesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "capabilities", Aliases: []string{"caps"}, Short: "List, show and lint capability manifests"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List every capability version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := loadRegistry()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tVERSION\tSCOPE\tSTATUS\tPROVIDER\tSUMMARY")
			for _, v := range reg.Versions() {
				m := v.Manifest
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Version, m.Scope, m.Status, v.Provider, m.Summary)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return printBudgets(cmd.OutOrStdout(), reg)
		},
	}
	show := &cobra.Command{
		Use:   "show NAME[@VERSION]",
		Short: "Print a capability's manifest as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := loadRegistry()
			if err != nil {
				return err
			}
			ref, err := registry.ParseRef(args[0])
			if err != nil {
				return err
			}
			v, err := reg.Resolve(ref)
			if err != nil {
				// show is for reading contracts: a retired version is
				// still shown when named exactly.
				if capability.ErrorCode(err) != capability.CodeUpgradeRequired || ref.Version == "" {
					return err
				}
				for _, cand := range reg.VersionsOf(ref.Name) {
					if cand.Manifest.Version == ref.Version {
						v = cand
					}
				}
			}
			b, err := json.MarshalIndent(v.Manifest, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	var dir string
	lint := &cobra.Command{
		Use:   "lint [--dir DIR]",
		Short: "Validate every manifest; exit 1 on any problem",
		Long: "Validate every capability manifest against the manifest schema, compile its schemas,\n" +
			"check its examples and error table, check that each has exactly one handler, and\n" +
			"load its conformance cases (which must include a happy and a rejection case).\n" +
			"By default the manifests built into this binary are checked; --dir checks a\n" +
			"capabilities/ directory on disk instead (while editing manifests).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var manifests fs.FS = capabilities.FS
			if dir != "" {
				manifests = os.DirFS(dir)
			}
			reg, err := loadRegistryFrom(manifests)
			var suite *conformance.Suite
			if err == nil {
				suite, err = conformance.Load(manifests, schemas.FS, reg)
			}
			var unlocked []*registry.Version
			if err == nil {
				unlocked, err = checkLock(manifests, reg)
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return &exitError{code: 1, err: fmt.Errorf("lint failed")}
			}
			for _, v := range unlocked {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s is new (not in %s yet); record it with go test ./internal/registry -run TestContractsLock -update-lock\n", v.Manifest.Ref(), registry.LockFile)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d capability versions OK, %d conformance cases\n", len(reg.Versions()), len(suite.Select(conformance.Filter{})))
			return nil
		},
	}
	lint.Flags().StringVar(&dir, "dir", "", "lint the manifests in this directory instead of the built-in ones")
	cmd.AddCommand(list, show, lint)
	return cmd
}

// checkLock compares the manifests with their contracts.lock: an edited or
// deleted published version is a problem; a new one is returned to note.
func checkLock(manifests fs.FS, reg *registry.Registry) ([]*registry.Version, error) {
	lock, err := registry.ReadLock(manifests)
	if err != nil {
		return nil, err
	}
	unlocked, problems := reg.CheckLock(lock)
	if len(problems) > 0 {
		return nil, problems
	}
	return unlocked, nil
}

// printBudgets prints how much context an agent's tools/list costs: for
// the whole catalog and for each built-in set.
func printBudgets(out io.Writer, reg *registry.Registry) error {
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	if err != nil {
		return err
	}
	var all []*registry.Version
	for _, name := range reg.Names() {
		if v := reg.Latest(name); v != nil {
			all = append(all, v)
		}
	}
	fmt.Fprintf(out, "\nContext budget of tools/list (%d bytes per token):\n", tooldef.BytesPerToken)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  SERVED\tTOOLS\tBYTES\t~TOKENS")
	row := func(label string, b tooldef.Budget) {
		fmt.Fprintf(w, "  %s\t%d\t%d\t%d\n", label, b.Tools, b.Bytes, b.Tokens)
	}
	row("/mcp (whole catalog)", tooldef.ListBudget(all))
	for _, set := range builtIn {
		row("/mcp/sets/"+set.Name, tooldef.ListBudget(sets.Tools(sets.Resolve(reg, set, nil))))
	}
	return w.Flush()
}
