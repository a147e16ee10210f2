package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
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
			return w.Flush()
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
	lint := &cobra.Command{
		Use:   "lint",
		Short: "Validate every manifest; exit 1 on any problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := loadRegistry()
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return &exitError{code: 1, err: fmt.Errorf("lint failed")}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d capability versions OK\n", len(reg.Versions()))
			return nil
		},
	}
	cmd.AddCommand(list, show, lint)
	return cmd
}
