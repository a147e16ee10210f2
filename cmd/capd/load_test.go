package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// loadDuration is 30 s in the test command; CAPD_LOAD_DURATION=5m runs the
// long mode.
func loadDuration(t *testing.T) time.Duration {
	if s := os.Getenv("CAPD_LOAD_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err)
		return d
	}
	return 30 * time.Second
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	require.NotNil(t, m)
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestLoadFiftyTenants drives the real server with a mixed read/write load
// over 50 tenants: no 5xx, no "database is locked" reaching a client, and
// memory flat after warm-up.
func TestLoadFiftyTenants(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: data})
	require.NoError(t, err)
	type tenant struct{ key, project string }
	var tenants []tenant
	for i := 0; i < 50; i++ {
		slug := fmt.Sprintf("load-%02d", i)
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		key, _, err := db.Control().CreateKey(ctx, slug, capability.AllScopes, time.Time{})
		require.NoError(t, err)
		store, err := db.Tenants().Tenant(ctx, slug)
		require.NoError(t, err)
		p := &capability.Project{Name: "Load"}
		require.NoError(t, store.Update(ctx, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) }))
		tenants = append(tenants, tenant{key, p.ID})
	}
	require.NoError(t, db.Close())

	cmd := exec.Command(capdBinary, "serve", "--data", data, "--addr", "127.0.0.1:0", "--conformance-interval", "0",
		"--rate-limit", "0", "--tenant-rate-limit", "0", "--max-open-tenants", "1000")
	cmd.Env = environWithout("CAPD_API_KEY")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && url == "" {
		url = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(sc.Text())
	}
	require.NotEmpty(t, url)
	go io.Copy(io.Discard, stdout)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	var calls, writes, fiveXX, locked, other atomic.Int64
	var mu sync.Mutex
	var firstProblem string
	deadline := time.Now().Add(loadDuration(t))
	warm := time.Now().Add(loadDuration(t) / 3)
	var rssWarm int
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for time.Now().Before(deadline) {
				tn := tenants[rng.IntN(len(tenants))]
				tool, body := "projects.list_tasks", `{"project_id":"`+tn.project+`","limit":10}`
				if rng.IntN(3) == 0 {
					tool, body = "projects.create_task", `{"project_id":"`+tn.project+`","title":"load `+strconv.Itoa(w)+`"}`
					writes.Add(1)
				}
				req, _ := http.NewRequest("POST", url+"/api/v1/tools/"+tool, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tn.key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				calls.Add(1)
				if err != nil {
					other.Add(1)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode >= 500 {
					fiveXX.Add(1)
				}
				if strings.Contains(string(b), "locked") || strings.Contains(string(b), "SQLITE_BUSY") {
					locked.Add(1)
				}
				if res.StatusCode != http.StatusOK {
					mu.Lock()
					if firstProblem == "" {
						firstProblem = fmt.Sprintf("%d %s", res.StatusCode, b)
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	for time.Now().Before(warm) {
		time.Sleep(100 * time.Millisecond)
	}
	rssWarm = rssKiB(t, cmd.Process.Pid)
	wg.Wait()
	rssEnd := rssKiB(t, cmd.Process.Pid)

	elapsed := loadDuration(t).Seconds()
	t.Logf("%d calls (%d writes) over 50 tenants in %.0f s: %.0f calls/s; RSS after warm-up %d KiB, at end %d KiB",
		calls.Load(), writes.Load(), elapsed, float64(calls.Load())/elapsed, rssWarm, rssEnd)
	assert.Zero(t, fiveXX.Load(), "5xx answers; first problem: %s", firstProblem)
	assert.Zero(t, locked.Load(), "'database is locked' reached a client")
	assert.Zero(t, other.Load(), "transport errors")
	assert.Empty(t, firstProblem)
	assert.Less(t, rssEnd, rssWarm*3/2+32*1024, "memory flat after warm-up (at most +50%% +32 MiB)")
}
