package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// allProviders is every provider capd runs, wired in one visible place.
func allProviders() []capability.Provider {
	return []capability.Provider{projectkit.New()}
}

// loadRegistry loads the embedded manifests and binds the providers'
// handlers; any mismatch stops start-up with every problem listed.
func loadRegistry() (*registry.Registry, error) {
	return loadRegistryFrom(capabilities.FS)
}

// loadRegistryFrom is loadRegistry over other manifests, for lint --dir.
func loadRegistryFrom(manifests fs.FS) (*registry.Registry, error) {
	reg, err := registry.Load(manifests, schemas.FS)
	if err != nil {
		return nil, err
	}
	if err := reg.Bind(allProviders()...); err != nil {
		return nil, err
	}
	return reg, nil
}

// app is capd wired together over one data directory.
type app struct {
	db       *sqlite.DB
	reg      *registry.Registry
	inv      *invoke.Invoker
	sets     *sets.Service
	setHub   *mcpserver.SetHub
	recorder *invoke.BatchRecorder
	logger   *slog.Logger
}

type appOptions struct {
	dataDir        string
	maxOpenTenants int
	tenantMaxPages int // max_page_count of each tenant database; 0: no cap
}

func openApp(ctx context.Context, o appOptions) (*app, error) {
	reg, err := loadRegistry()
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: o.dataDir, MaxOpenTenants: o.maxOpenTenants, TenantMaxPageCount: o.tenantMaxPages})
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	if err != nil {
		db.Close()
		return nil, err
	}
	rec := invoke.NewBatchRecorder(db.Control(), logger)
	inv := &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Recorder: rec, Logger: logger}
	hub := mcpserver.NewSetHub(inv, version)
	return &app{
		db: db, reg: reg, recorder: rec, logger: logger, inv: inv, setHub: hub,
		sets: &sets.Service{Store: db.Control(), Registry: reg, BuiltIn: builtIn, Changed: hub.Changed},
	}, nil
}

// Close flushes the call log and closes every database.
func (a *app) Close() error {
	a.recorder.Close()
	return a.db.Close()
}

// withStore runs fn over the data directory's databases, for management
// commands that need no registry, and closes them afterwards.
func withStore(cmd *cobra.Command, data func() string, fn func(*sqlite.DB) error) error {
	db, err := sqlite.Open(cmd.Context(), sqlite.Options{Dir: data()})
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}
