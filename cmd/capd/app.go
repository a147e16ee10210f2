package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/metrics"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
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
	db       storage
	reg      *registry.Registry
	inv      *invoke.Invoker
	sets     *sets.Service
	setHub   *mcpserver.SetHub
	recorder *invoke.BatchRecorder
	logger   *slog.Logger
}

type appOptions struct {
	dataDir        string
	store          string // --store: "", sqlite, sqlite:DIR or a postgres:// URL
	maxOpenTenants int
	tenantMaxPages int // max_page_count of each tenant database; 0: no cap
	logging        logOptions
	logOut         io.Writer // where logs go; nil: os.Stderr
}

func openApp(ctx context.Context, o appOptions) (*app, error) {
	reg, err := loadRegistry()
	if err != nil {
		return nil, err
	}
	db, err := openStorage(ctx, o)
	if err != nil {
		return nil, err
	}
	logger := o.logging.newLogger(o.logOut)
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	if err != nil {
		db.Close()
		return nil, err
	}
	rec := invoke.NewBatchRecorder(db.Control(), logger)
	inv := &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Recorder: rec, Logger: logger}
	hub := mcpserver.NewSetHub(inv, version)
	a := &app{db: db, reg: reg, recorder: rec, logger: logger, inv: inv, setHub: hub}
	a.sets = &sets.Service{Store: db.Control(), Registry: reg, BuiltIn: builtIn, Changed: a.setChanged}
	return a, nil
}

// setChanged updates this process's servers of a set that changed and,
// on a store several nodes share, tells the other nodes.
func (a *app) setChanged(owner, name string, set *capability.CapabilitySet) {
	a.setHub.Changed(owner, name, set)
	if feed, ok := a.db.(setChangeFeed); ok {
		if err := feed.PublishSetChange(context.Background(), owner, name); err != nil {
			a.logger.Warn("announce set change to other nodes", "set", owner+"/"+name, "err", err)
		}
	}
}

// watchSetChanges brings this node's set servers up to date when another
// node announces a change, until ctx ends. Between a lost connection and
// its return announcements are lost, so every served set is re-read then.
// A store only one process serves (SQLite) has no announcements: requests
// re-read their set anyway (SetHub.Handler).
func (a *app) watchSetChanges(ctx context.Context) {
	feed, ok := a.db.(setChangeFeed)
	if !ok {
		return
	}
	reload := func(owner, name string) {
		if owner == "" {
			return // built-in sets never change
		}
		set, err := a.db.Control().FindSet(ctx, owner, name)
		switch {
		case errors.Is(err, capability.ErrNotFound):
			a.setHub.Changed(owner, name, nil)
		case err != nil:
			if ctx.Err() == nil {
				a.logger.Warn("reload changed set", "set", owner+"/"+name, "err", err)
			}
		default:
			a.setHub.Changed(owner, name, set)
		}
	}
	resync := func() {
		for _, ref := range a.setHub.Sets() {
			reload(ref.Owner, ref.Name)
		}
	}
	lost := func(err error) { a.logger.Warn("set change notifications interrupted; reconnecting", "err", err) }
	feed.WatchSetChanges(ctx, time.Second, reload, resync, lost)
}

// Close flushes the call log and closes every database.
func (a *app) Close() error {
	a.recorder.Close()
	return a.db.Close()
}

// newMetrics builds the app's Prometheus registry: the invoker's call
// series (the caller sets it as the invoker's Observer), the call log's
// drops, the store's pools when it has them, and the conformance figures
// read from the control store, reused for ttl.
func (a *app) newMetrics(ttl time.Duration) *metrics.Metrics {
	m := metrics.New(version)
	m.WatchCallLog(a.recorder.Dropped)
	if p, ok := a.db.(metrics.TenantPool); ok {
		m.WatchTenantPool(p)
	}
	if p, ok := a.db.(metrics.ConnPool); ok {
		m.WatchConnPool(p)
	}
	m.WatchConformance(a.db.Control(), ttl, a.logger)
	return m
}
