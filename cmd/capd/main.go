// Command capd is the agent capability server: it serves versioned
// capabilities as MCP tools over streamable HTTP and stdio, and manages
// tenants, API keys and the capability manifests.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "capd:", err)
		os.Exit(exitCode(err))
	}
}
