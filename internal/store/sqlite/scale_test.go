package sqlite

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// Scale test parameters. CAPD_SCALE_TENANTS and CAPD_SCALE_TOUCHES override
// the tenant and touch counts (the long mode is CAPD_SCALE_TENANTS=100000);
// CAPD_SCALE_OUT names a file for the JSON summary.
const (
	scaleTenants    = 10_000
	scaleTouches    = 50_000
	scaleWorkers    = 8
	scaleZipfS      = 1.1
	scaleWriteOneIn = 10 // one touch in ten also writes

	// fdsPerTenant is what one idle open tenant may hold: the writer's
	// database, -wal and -shm files and its idle reader's database and
	// -wal files (the -shm mapping is shared within a process).
	fdsPerTenant = 5
	fdSlack      = 50
)

// coldKey marks a touch's context so the tenant opener can report that this
// touch, and not a concurrent one, opened the database.
type coldKey struct{}

// scaleSummary is the JSON written to CAPD_SCALE_OUT.
type scaleSummary struct {
	Tenants        int     `json:"tenants"`
	Touches        int     `json:"touches"`
	Workers        int     `json:"workers"`
	ZipfS          float64 `json:"zipf_s"`
	MaxOpenTenants int     `json:"max_open_tenants"`
	CreateMode     string  `json:"create_mode"` // copy or api; see createScaleTenants
	CreateSeconds  float64 `json:"create_seconds"`
	TouchSeconds   float64 `json:"touch_seconds"`
	TouchesPerSec  float64 `json:"touches_per_second"`

	ColdTouches      int     `json:"cold_touches"`
	TouchHitRate     float64 `json:"touch_hit_rate"`
	LRUHitRate       float64 `json:"lru_hit_rate"` // Stats: hits/(hits+opens), per acquisition
	ColdOpenP50Ms    float64 `json:"cold_open_p50_ms"`
	ColdOpenP99Ms    float64 `json:"cold_open_p99_ms"`
	ColdOpenMaxMs    float64 `json:"cold_open_max_ms"`
	ColdHandleP50Ms  float64 `json:"cold_handle_p50_ms"`
	ColdHandleP99Ms  float64 `json:"cold_handle_p99_ms"`
	WarmTouchP50Ms   float64 `json:"warm_touch_p50_ms"`
	WarmTouchP99Ms   float64 `json:"warm_touch_p99_ms"`
	SeqColdOpenP50Ms float64 `json:"sequential_cold_open_p50_ms"`
	SeqColdOpenP99Ms float64 `json:"sequential_cold_open_p99_ms"`

	OpenMax      int    `json:"open_max"`
	LRULenMax    int    `json:"lru_len_max"`
	LRUBoundHeld bool   `json:"lru_bound_held"`
	Evictions    uint64 `json:"evictions"`

	RSSEmptyMiB            float64 `json:"rss_empty_mib"`
	RSSFullMiB             float64 `json:"rss_full_mib"`        // after the first MaxOpenTenants tenants
	RSSAllMiB              float64 `json:"rss_all_touched_mib"` // after touching every tenant
	RSSClosedMiB           float64 `json:"rss_closed_mib"`
	RSSPerTenantKB         float64 `json:"rss_per_open_tenant_kb"`           // (full - empty) / open
	RSSReadOnlyPerTenantKB float64 `json:"rss_per_open_read_only_tenant_kb"` // after the read-only sweep
	AnonPerTenantKB        float64 `json:"rss_anon_per_open_tenant_kb"`
	FilePerTenantKB        float64 `json:"rss_file_and_shmem_per_open_tenant_kb"`
	GoHeapPerTenantKB      float64 `json:"go_heap_per_open_tenant_kb"`
	OutsideHeapPerTenantKB float64 `json:"outside_go_heap_per_open_tenant_kb"`

	FDsBase         int     `json:"fds_base"`
	FDsFull         int     `json:"fds_full"`
	FDsPerTenant    float64 `json:"fds_per_open_tenant"`
	FDLimitAsserted int     `json:"fd_limit_asserted"`
}

// TestTenantScale creates many tenants, touches them in Zipf order through
// an LRU far smaller than the tenant count, and checks that open databases,
// file descriptors and memory follow the LRU bound, not the number of
// tenants on disk. Latencies are reported, not asserted: they depend on the
// machine.
func TestTenantScale(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 10,000 tenant databases (about a minute); run without -short")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to measure memory and file descriptors:", err)
	}
	ctx := context.Background()
	n := envInt(t, "CAPD_SCALE_TENANTS", scaleTenants)
	touches := envInt(t, "CAPD_SCALE_TOUCHES", scaleTouches)
	bound := DefaultMaxOpenTenants
	require.Greater(t, n, bound, "the test needs more tenants than the LRU holds")
	dir := t.TempDir()
	sum := scaleSummary{Tenants: n, Touches: touches, Workers: scaleWorkers, ZipfS: scaleZipfS, MaxOpenTenants: bound}

	start := time.Now()
	projects := createScaleTenants(t, dir, n, bound)
	sum.CreateSeconds = time.Since(start).Seconds()
	sum.CreateMode = cmp.Or(os.Getenv("CAPD_SCALE_CREATE"), "copy")
	t.Logf("created %d tenants (%s) in %.1fs", n, sum.CreateMode, sum.CreateSeconds)

	// A fresh store: nothing open, so the first touches are cold.
	db, err := Open(ctx, Options{Dir: dir, MaxOpenTenants: bound})
	require.NoError(t, err)
	defer db.Close()
	var cold atomic.Bool // a guard: the opener must see the marker
	open := db.tenants.cache.open
	db.tenants.cache.open = func(ctx context.Context, slug string) (*database, error) {
		if mark, ok := ctx.Value(coldKey{}).(*bool); ok {
			*mark = true
			cold.Store(true)
		}
		return open(ctx, slug)
	}
	// The control database and the Go runtime are warm and measured here,
	// before any tenant opens.
	_, err = db.Control().FindTenant(ctx, scaleSlug(0))
	require.NoError(t, err)
	_, rssEmpty := settledMemory(t)
	heapEmpty := liveHeap()
	sum.FDsBase = countFDs(t)

	// Fill the LRU exactly, one tenant at a time: cold opens without
	// contention. Each touch also writes, so every tenant holds its
	// writer and its reader, the most an idle open tenant holds.
	var seqCold []time.Duration
	for k := range bound {
		r := scaleTouch(ctx, t, db, scaleSlug(k), projects[k], true)
		if r.cold {
			seqCold = append(seqCold, r.touch)
		}
	}
	require.True(t, cold.Load(), "the opener saw the cold marker")
	require.Equal(t, bound, db.Tenants().Stats().Open)
	_, rssFull := settledMemory(t)
	heapFull := liveHeap()
	sum.FDsFull = countFDs(t)
	open1 := db.Tenants().Stats().Open
	sum.RSSEmptyMiB, sum.RSSFullMiB = mib(rssEmpty.rss), mib(rssFull.rss)
	sum.RSSPerTenantKB = kb(rssFull.rss-rssEmpty.rss) / float64(open1)
	sum.AnonPerTenantKB = kb(rssFull.anon-rssEmpty.anon) / float64(open1)
	sum.FilePerTenantKB = kb(rssFull.file+rssFull.shmem-rssEmpty.file-rssEmpty.shmem) / float64(open1)
	sum.GoHeapPerTenantKB = kb(int64(heapFull)-int64(heapEmpty)) / float64(open1)
	sum.OutsideHeapPerTenantKB = sum.RSSPerTenantKB - sum.GoHeapPerTenantKB
	sum.FDsPerTenant = float64(sum.FDsFull-sum.FDsBase) / float64(open1)
	sum.FDLimitAsserted = bound*fdsPerTenant + fdSlack
	require.LessOrEqual(t, sum.FDsFull-sum.FDsBase, sum.FDLimitAsserted,
		"file descriptors of %d open tenants", open1)
	sum.SeqColdOpenP50Ms, sum.SeqColdOpenP99Ms = ms(percentile(seqCold, 50)), ms(percentile(seqCold, 99))

	// Zipf traffic from several callers, with an LRU a tenth of the
	// tenant count, while a sampler watches the bound.
	before := db.Tenants().Stats()
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			s := db.Tenants().Stats()
			c := db.tenants.cache
			c.mu.Lock()
			lruLen := c.lru.Len()
			c.mu.Unlock()
			sum.OpenMax = max(sum.OpenMax, s.Open)
			sum.LRULenMax = max(sum.LRULenMax, lruLen)
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	})
	order := rand.New(rand.NewPCG(1, 2)).Perm(n) // Zipf rank -> tenant: the hot set is not the tenants opened above
	results := make([][]touchResult, scaleWorkers)
	start = time.Now()
	var workers sync.WaitGroup
	for w := range scaleWorkers {
		workers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			zipf := rand.NewZipf(rng, scaleZipfS, 1, uint64(n-1))
			for i := w; i < touches; i += scaleWorkers {
				k := order[zipf.Uint64()]
				r := scaleTouch(ctx, t, db, scaleSlug(k), projects[k], i%scaleWriteOneIn == 0)
				results[w] = append(results[w], r)
			}
		})
	}
	workers.Wait()
	sum.TouchSeconds = time.Since(start).Seconds()
	close(stopSampling)
	sampler.Wait()
	after := db.Tenants().Stats()
	sum.TouchesPerSec = float64(touches) / sum.TouchSeconds
	sum.Evictions = after.Evictions - before.Evictions
	opens, hits := after.Opens-before.Opens, after.Hits-before.Hits
	sum.LRUHitRate = float64(hits) / float64(hits+opens)

	var coldTouch, coldHandle, warmTouch []time.Duration
	for _, rs := range results {
		for _, r := range rs {
			if r.cold {
				coldTouch, coldHandle = append(coldTouch, r.touch), append(coldHandle, r.handle)
			} else {
				warmTouch = append(warmTouch, r.touch)
			}
		}
	}
	sum.ColdTouches = len(coldTouch)
	sum.TouchHitRate = 1 - float64(len(coldTouch))/float64(touches)
	sum.ColdOpenP50Ms, sum.ColdOpenP99Ms = ms(percentile(coldTouch, 50)), ms(percentile(coldTouch, 99))
	sum.ColdOpenMaxMs = ms(percentile(coldTouch, 100))
	sum.ColdHandleP50Ms, sum.ColdHandleP99Ms = ms(percentile(coldHandle, 50)), ms(percentile(coldHandle, 99))
	sum.WarmTouchP50Ms, sum.WarmTouchP99Ms = ms(percentile(warmTouch, 50)), ms(percentile(warmTouch, 99))

	// The LRU never holds more than its bound; an evicted database may stay
	// open only while a transaction still uses it, so at most one per
	// worker beyond the bound.
	require.LessOrEqual(t, sum.LRULenMax, bound)
	require.LessOrEqual(t, sum.OpenMax, bound+scaleWorkers)
	require.Equal(t, uint64(len(coldTouch)), opens, "every open is a cold touch and every cold touch an open")

	// Touch every tenant once: memory and descriptors stay where a full
	// LRU put them, whatever the number of tenants on disk.
	for k := range n {
		scaleTouch(ctx, t, db, scaleSlug(k), projects[k], false)
	}
	require.Equal(t, bound, db.Tenants().Stats().Open)
	_, rssAll := settledMemory(t)
	sum.RSSAllMiB = mib(rssAll.rss)
	// The sweep only read, so the tenants it left open hold a reader
	// and no writer; the figure includes memory the C allocator kept
	// from the tenants evicted before.
	sum.RSSReadOnlyPerTenantKB = kb(rssAll.rss-rssEmpty.rss) / float64(bound)
	fdsAll := countFDs(t)
	require.LessOrEqual(t, fdsAll-sum.FDsBase, sum.FDLimitAsserted, "file descriptors after touching every tenant")
	// Growth with the tenant count would add (n - bound) tenants' worth
	// of memory, several times what a full LRU costs; allow the full
	// LRU's cost once more for allocator and GC slack.
	full := rssFull.rss - rssEmpty.rss
	require.LessOrEqual(t, rssAll.rss-rssEmpty.rss, 2*full+64<<20,
		"memory after touching %d tenants (%.0f MiB) vs after %d (%.0f MiB)", n, sum.RSSAllMiB, bound, sum.RSSFullMiB)
	sum.LRUBoundHeld = true

	require.NoError(t, db.Close())
	_, rssClosed := settledMemory(t)
	sum.RSSClosedMiB = mib(rssClosed.rss)
	require.Less(t, countFDs(t), sum.FDsBase, "closing the store closes every tenant's descriptors")

	out, err := json.MarshalIndent(sum, "", "  ")
	require.NoError(t, err)
	t.Logf("scale summary:\n%s", out)
	t.Logf("targets: cold open p99 %.2f ms (target <= 5 ms), RSS per open tenant %.0f KB (target <= 300 KB)",
		sum.ColdOpenP99Ms, sum.RSSPerTenantKB)
	if path := os.Getenv("CAPD_SCALE_OUT"); path != "" {
		require.NoError(t, os.WriteFile(path, append(out, '\n'), 0o644))
	}
}

// createScaleTenants creates n tenants with one project each in a data
// directory at dir and returns the project IDs by tenant index.
//
// Creating every tenant through the store (register, open and migrate,
// create a project, checkpoint on eviction) takes about 75 s for 10,000
// tenants on two cores, so by default only the first is created that way;
// the others are registered in the control database and given a copy of
// its closed database file, which the store adopts as it adopts any
// existing tenant file: it checks the schema version and finds nothing to
// migrate. CAPD_SCALE_CREATE=api creates every tenant through the store.
func createScaleTenants(t *testing.T, dir string, n, bound int) []string {
	ctx := context.Background()
	db, err := Open(ctx, Options{Dir: dir, MaxOpenTenants: bound})
	require.NoError(t, err)
	defer db.Close()
	projects := make([]string, n)
	create := func(k int) error {
		slug := scaleSlug(k)
		if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}); err != nil {
			return err
		}
		store, err := db.Tenants().Tenant(ctx, slug)
		if err != nil {
			return err
		}
		p := &capability.Project{Name: "Website", Description: "the tenant's one project"}
		if err := store.Update(ctx, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) }); err != nil {
			return err
		}
		projects[k] = p.ID
		return nil
	}
	first := 1
	if os.Getenv("CAPD_SCALE_CREATE") == "api" {
		first = n
	}
	require.NoError(t, create(0))
	if first < n {
		// Closing checkpoints the WAL into the file, so the file alone is
		// the whole tenant.
		require.NoError(t, db.Close())
		db, err = Open(ctx, Options{Dir: dir, MaxOpenTenants: bound})
		require.NoError(t, err)
		template, err := os.ReadFile(db.Tenants().path(scaleSlug(0)))
		require.NoError(t, err)
		requireEmptyWAL(t, db.Tenants().path(scaleSlug(0)))
		for k := 1; k < n; k++ {
			require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: scaleSlug(k)}))
			projects[k] = projects[0]
		}
		parallel(t, n-1, func(i int) error {
			return os.WriteFile(db.Tenants().path(scaleSlug(i+1)), template, 0o600)
		})
	} else {
		parallel(t, n-1, func(i int) error { return create(i + 1) })
	}
	require.NoError(t, db.Close())
	return projects
}

// parallel runs fn(0) ... fn(n-1) on scaleWorkers goroutines and fails the
// test on the first error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range scaleWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && !t.Failed(); i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
}

func scaleSlug(k int) string { return fmt.Sprintf("tenant-%06d", k) }

// touchResult is one touch: how long getting the store took, how long the
// store plus the read took, and whether this touch opened the database.
type touchResult struct {
	handle, touch time.Duration
	cold          bool
}

// scaleTouch gets the store of slug and reads its project, then, if write,
// adds a task. Only the store and the read are timed: they are what a cold
// open costs a call.
func scaleTouch(ctx context.Context, t *testing.T, db *DB, slug, projectID string, write bool) touchResult {
	var cold bool
	ctx = context.WithValue(ctx, coldKey{}, &cold)
	start := time.Now()
	store, err := db.Tenants().Tenant(ctx, slug)
	if err != nil {
		t.Error(err)
		return touchResult{}
	}
	handle := time.Since(start)
	err = store.View(ctx, func(tx capability.Tx) error {
		_, err := tx.FindProjectByID(ctx, projectID)
		return err
	})
	touch := time.Since(start)
	if err == nil && write {
		err = store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: projectID, Title: "touch"})
		})
	}
	if err != nil {
		t.Error(err)
	}
	return touchResult{handle: handle, touch: touch, cold: cold}
}

// procMemory is the process's resident memory from /proc/self/status, in
// bytes: all of it, and its anonymous, file-backed and shared parts.
type procMemory struct {
	rss, anon, file, shmem int64
}

// settledMemory collects garbage and returns freed heap pages to the OS
// before reading resident memory, so the reading reflects live data and not
// the collector's pacing.
func settledMemory(t *testing.T) (runtime.MemStats, procMemory) {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	var m procMemory
	fields := map[string]*int64{"VmRSS:": &m.rss, "RssAnon:": &m.anon, "RssFile:": &m.file, "RssShmem:": &m.shmem}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) == 3 && parts[2] == "kB" {
			if p, ok := fields[parts[0]]; ok {
				v, err := strconv.ParseInt(parts[1], 10, 64)
				require.NoError(t, err)
				*p = v << 10
			}
		}
	}
	require.NoError(t, sc.Err())
	require.NotZero(t, m.rss)
	return ms, m
}

// liveHeap returns the bytes of live Go heap objects; call it right after
// settledMemory.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// countFDs counts this process's open file descriptors.
func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	require.NoError(t, err, "%s", name)
	require.Positive(t, v, "%s", name)
	return v
}

// percentile returns the p-th percentile of ds (nearest rank), or 0.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
func kb(b int64) float64         { return float64(b) / 1000 }
