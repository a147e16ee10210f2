package main

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/metrics"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// location is where capd's data lives: --store (env CAPD_STORE) names the
// engine, --data (env CAPD_DATA) the local directory that SQLite keeps its
// databases in and every engine keeps local files in (the demo keys).
type location struct {
	dir   string
	store string
}

// storage is one storage engine, as capd's commands use it.
type storage interface {
	Control() capability.ControlStore
	Tenants() capability.TenantStores
	// Scratch gives conformance runs throwaway copies of tenants.
	Scratch() capability.ScratchStores
	// TryLock takes a lock shared by every capd process on the same
	// store, so one of them at a time runs a scheduled job.
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
	// Describe names the store for people: no password ever.
	Describe() string
	Close() error
}

// setChangeFeed is a store that several capd nodes share, which must tell
// each other when a capability set changes so sessions connected to any
// node hear of it.
type setChangeFeed interface {
	PublishSetChange(ctx context.Context, owner, name string) error
	WatchSetChanges(ctx context.Context, retry time.Duration, changed func(owner, name string), resync func(), lost func(error))
}

// openStorage opens the store o names: SQLite in o.dataDir unless o.store
// says otherwise.
func openStorage(ctx context.Context, o appOptions) (storage, error) {
	kind, target, err := parseStore(o.store, o.dataDir)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "postgres":
		if o.tenantMaxPages > 0 {
			return nil, usageError("--tenant-max-pages caps SQLite files; with --store postgres:// use PostgreSQL's own quotas instead")
		}
		db, err := postgres.Open(ctx, target, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return pgStorage{db}, nil
	default:
		db, err := sqlite.Open(ctx, sqlite.Options{Dir: target, MaxOpenTenants: o.maxOpenTenants, TenantMaxPageCount: o.tenantMaxPages})
		if err != nil {
			return nil, err
		}
		return sqliteStorage{db, target}, nil
	}
}

// parseStore reads a --store value: "" or "sqlite" (SQLite in dataDir),
// "sqlite:DIR", or a postgres:// or postgresql:// URL.
func parseStore(store, dataDir string) (kind, target string, err error) {
	switch {
	case store == "" || store == "sqlite":
		return "sqlite", dataDir, nil
	case strings.HasPrefix(store, "sqlite:"):
		dir := strings.TrimPrefix(store, "sqlite:")
		if dir == "" {
			return "", "", usageError("--store %q: give the directory, as sqlite:DIR", store)
		}
		return "sqlite", dir, nil
	case strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://"):
		if _, err := url.Parse(store); err != nil {
			return "", "", usageError("--store: not a valid URL (%v); use postgres://USER:PASSWORD@HOST:PORT/DATABASE", err)
		}
		return "postgres", store, nil
	default:
		return "", "", usageError("--store %q: want sqlite, sqlite:DIR or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL", redactStore(store))
	}
}

// redactStore hides a password in a store URL, for messages and banners.
func redactStore(store string) string {
	u, err := url.Parse(store)
	if err != nil || u.Scheme == "" {
		if i := strings.Index(store, "@"); i >= 0 {
			return "…" + store[i:]
		}
		return store
	}
	return u.Redacted()
}

// sqliteStorage is a SQLite data directory.
type sqliteStorage struct {
	*sqlite.DB
	dir string
}

func (s sqliteStorage) Control() capability.ControlStore  { return s.DB.Control() }
func (s sqliteStorage) Tenants() capability.TenantStores  { return s.DB.Tenants() }
func (s sqliteStorage) Scratch() capability.ScratchStores { return s.DB.Tenants() }
func (s sqliteStorage) Describe() string                  { return "sqlite " + s.dir }

// TenantPoolStats implements metrics.TenantPool: the tenant LRU.
func (s sqliteStorage) TenantPoolStats() metrics.TenantPoolStats {
	st := s.DB.Tenants().Stats()
	return metrics.TenantPoolStats{Open: st.Open, Opens: st.Opens, Hits: st.Hits, Evictions: st.Evictions}
}

// pgStorage is a PostgreSQL database shared by any number of nodes.
type pgStorage struct{ *postgres.DB }

func (s pgStorage) Control() capability.ControlStore  { return s.DB.Control() }
func (s pgStorage) Tenants() capability.TenantStores  { return s.DB.Tenants() }
func (s pgStorage) Scratch() capability.ScratchStores { return s.DB.Tenants() }
func (s pgStorage) Describe() string                  { return "postgres " + s.DB.Describe() }
func (s pgStorage) Close() error                      { s.DB.Close(); return nil }

// ConnPoolStats implements metrics.ConnPool: this node's connections.
func (s pgStorage) ConnPoolStats() metrics.ConnPoolStats {
	st := s.DB.PoolStat()
	return metrics.ConnPoolStats{
		InUse: int(st.AcquiredConns()), Idle: int(st.IdleConns()), Constructing: int(st.ConstructingConns()),
		Max: int(st.MaxConns()), Acquires: st.AcquireCount(), WaitedAcquires: st.EmptyAcquireCount(),
	}
}

var (
	_ setChangeFeed      = pgStorage{}
	_ metrics.ConnPool   = pgStorage{}
	_ metrics.TenantPool = sqliteStorage{}
)

// withStore runs fn over the store of the command's location, for
// management commands that need no registry, and closes it afterwards.
func withStore(cmd *cobra.Command, loc func() location, fn func(storage) error) error {
	l := loc()
	st, err := openStorage(cmd.Context(), appOptions{dataDir: l.dir, store: l.store})
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}
