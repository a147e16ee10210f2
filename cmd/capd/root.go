package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit status (lint uses 1 for problems).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "capd",
		Short:         "capd serves versioned business capabilities to LLM agents as MCP tools",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetVersionTemplate(currentBuild().text())
	root.SetOut(stdout)
	root.SetErr(stderr)
	var l location
	root.PersistentFlags().StringVar(&l.dir, "data", "./capd-data", "data directory: SQLite's databases, and local files such as the demo keys")
	root.PersistentFlags().StringVar(&l.store, "store", "", "where data lives: sqlite (in --data, the default), sqlite:DIR, or postgres://USER:PASSWORD@HOST:PORT/DATABASE shared by several capd nodes")
	root.PersistentFlags().String(configFlag, "", "YAML file of settings: flag names as keys, e.g. \"rate-limit: 50\" (see the README's Configuration)")
	loc := func() location { return l }
	root.AddCommand(
		newServeCmd(loc),
		newStdioCmd(loc),
		newTenantsCmd(loc),
		newKeysCmd(loc),
		newStaffCmd(loc),
		newCapabilitiesCmd(),
		newConformanceCmd(loc),
		newAuditCmd(loc),
		newSetsCmd(loc),
		newBenchCmd(),
		newMigrateCmd(),
		newVersionCmd(),
	)
	// Once every command and flag exists: settings from the environment
	// and the config file, and shell completion of flag values.
	installSettings(root)
	registerCompletions(root)
	// A command-line mistake exits 2, distinct from a failure (1).
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return root
}
