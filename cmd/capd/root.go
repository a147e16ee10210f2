package main

import (
	"errors"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is the capd release, stamped by the build.
var version = "0.1.0-dev"

// defaultDataDir is where capd keeps its databases unless told otherwise.
func defaultDataDir() string {
	if d := os.Getenv("CAPD_DATA"); d != "" {
		return d
	}
	return "./capd-data"
}

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
	root.SetOut(stdout)
	root.SetErr(stderr)
	var dataDir string
	root.PersistentFlags().StringVar(&dataDir, "data", defaultDataDir(), "data directory (env CAPD_DATA)")
	data := func() string { return dataDir }
	root.AddCommand(
		newServeCmd(data),
		newStdioCmd(data),
		newTenantsCmd(data),
		newKeysCmd(data),
		newStaffCmd(data),
		newCapabilitiesCmd(),
		newConformanceCmd(data),
		newAuditCmd(data),
		newSetsCmd(data),
		newBenchCmd(),
	)
	// A command-line mistake exits 2, distinct from a failure (1).
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return root
}
