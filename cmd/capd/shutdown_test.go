package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGracefulShutdown sends SIGTERM to a serving capd under write load:
// it exits 0 within the drain bound, every call it answered is kept, and
// the tenant databases are closed cleanly (WAL checkpointed away).
func TestGracefulShutdown(t *testing.T) {
	f := newFixture(t)
	cmd := exec.Command(capdBinary, "serve", "--data", f.data, "--addr", "127.0.0.1:0", "--conformance-interval", "0")
	cmd.Env = environWithout("CAPD_API_KEY")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	url := ""
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/mcp`)
	for sc.Scan() && url == "" {
		url = re.FindString(sc.Text())
	}
	require.NotEmpty(t, url)
	go io.Copy(io.Discard, stdout)
	tools := strings.TrimSuffix(url, "/mcp") + "/api/v1/tools/projects.create_task"

	var acked atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", tools, strings.NewReader(`{"project_id":"`+f.projectA+`","title":"drain"}`))
				req.Header.Set("Authorization", "Bearer "+f.fullA)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server has stopped accepting
				}
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					acked.Add(1)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exit status 0")
	case <-time.After(15 * time.Second):
		t.Fatal("capd did not stop within the 10 s drain bound")
	}
	close(stop)
	wg.Wait()
	require.Positive(t, acked.Load())

	// Closed cleanly: SQLite removes or empties the WAL when the last
	// connection closes after a checkpoint.
	wal := filepath.Join(f.data, "tenants", f.tenantA+".db-wal")
	if st, err := os.Stat(wal); err == nil {
		assert.Zero(t, st.Size(), "the WAL was checkpointed into the database")
	}
	// Every acknowledged write is there.
	out, err := runCLI(t, "audit", "--tenant", f.tenantA, "--data", f.data, "--limit", "100000")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int64(strings.Count(out, "projects.create_task@0.2.0")), acked.Load(), "the call log was flushed too")
}
