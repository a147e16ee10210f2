package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/capd-dev/capd/internal/store/sqlite"
)

// NoopHandler is the transport floor: a bare mcp-go server with one tool
// that does nothing, served over streamable HTTP with the session settings
// capd uses (stateless generated session ids). Run it in its own process,
// as capd runs in its own, so both share the machine's cores with the
// clients in the same way.
func NoopHandler() http.Handler {
	s := server.NewMCPServer("capd-bench-floor", "1", server.WithToolCapabilities(false))
	tool := mcp.NewToolWithRawSchema(NoopTool, "Does nothing.", json.RawMessage(`{"type":"object","additionalProperties":false}`))
	s.AddTool(tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultStructured(map[string]any{"ok": true}, `{"ok":true}`), nil
	})
	return server.NewStreamableHTTPServer(s, server.WithSessionIdManager(&server.StatelessGeneratingSessionIdManager{}))
}

// NoopTarget is the floor server at url as a target.
func NoopTarget(url string, pid int) *Target {
	return &Target{Nodes: []Node{{URL: url, PID: pid}}, Tenants: []*Tenant{{Slug: "floor", Key: "unused"}}}
}

// NoopLoad is l with its mix replaced by the floor's one tool.
func NoopLoad(l Load) Load {
	l.Mix = []Weighted{{Op: NoopTool, Weight: 1}}
	return l
}

// SQLiteFloor is the storage floor: clients goroutines insert one row per
// write transaction into tenants database files in dir, opened with the
// store's own writer settings (WAL, synchronous=NORMAL, BEGIN IMMEDIATE,
// one writer connection per database), choosing the database as l does.
// It is what a create_task costs with nothing of capd around the insert.
func SQLiteFloor(ctx context.Context, dir string, tenants int, l Load) (*Result, error) {
	dbs := make([]*sql.DB, tenants)
	for i := range dbs {
		db, err := sql.Open("sqlite", sqlite.WriterDSN(filepath.Join(dir, fmt.Sprintf("floor-%d.db", i))))
		if err != nil {
			return nil, err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tasks (
			id TEXT PRIMARY KEY, project_id TEXT NOT NULL, title TEXT NOT NULL,
			status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`); err != nil {
			return nil, err
		}
		dbs[i] = db
	}
	start := time.Now()
	measureFrom := start.Add(l.Warmup)
	end := measureFrom.Add(l.Duration)
	var mu sync.Mutex
	var all []time.Duration
	errs := map[string]int64{}
	var wg sync.WaitGroup
	for w := 0; w < l.Clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(l.Seed, uint64(w)))
			var zipf *rand.Zipf
			if l.Zipf > 1 && tenants > 1 {
				zipf = rand.NewZipf(rng, l.Zipf, 1, uint64(tenants-1))
			}
			var lat []time.Duration
			var failed int64
			for n := 0; ctx.Err() == nil; n++ {
				began := time.Now()
				if began.After(end) {
					break
				}
				i := rng.IntN(tenants)
				if zipf != nil {
					i = int(zipf.Uint64())
				}
				err := insertOne(ctx, dbs[i], fmt.Sprintf("tsk_%d_%d_%d", began.UnixNano(), w, n), began)
				if began.Before(measureFrom) {
					continue
				}
				lat = append(lat, time.Since(began))
				if err != nil {
					failed++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			if failed > 0 {
				errs["sqlite"] += failed
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Result{Scenario: "sqlite-insert", Target: "floor-sqlite", Mode: "closed", Clients: l.Clients, Tenants: tenants,
		Dist: l.Dist(), Seconds: l.Duration.Seconds(), Calls: int64(len(all)),
		CallsPerS: round2(float64(len(all)) / l.Duration.Seconds()), LatencyMs: latencyOf(all), Errors: errs}, nil
}

func insertOne(ctx context.Context, db *sql.DB, id string, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	ts := now.UTC().Format(time.RFC3339Nano)
	if _, err := tx.ExecContext(ctx, `INSERT INTO tasks (id, project_id, title, status, created_at, updated_at) VALUES (?, ?, ?, 'todo', ?, ?)`,
		id, "prj_floor", "Load task", ts, ts); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
