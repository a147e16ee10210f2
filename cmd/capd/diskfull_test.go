package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTenantDiskFull fills a tenant database up to a size limit
// (--tenant-max-pages, SQLite's max_page_count) through the real binary. The
// write that does not fit is refused as storage_full, over HTTP (503, the
// canonical envelope, nothing of SQLite's internals) and over MCP (a tool
// error), and writes nothing; reads still work; the database stays intact;
// and once the limit is raised, writes succeed again.
func TestTenantDiskFull(t *testing.T) {
	f := newFixture(t)
	path := tenantDBPath(f.data, f.tenantA)
	pages := pragmaInt(t, path, "page_count")
	before := len(readTaskTitles(t, path))

	// Room for a few tasks with a long description each, then full.
	limit := pages + 12
	p := startCapd(t, f.data, "--rate-limit", "0", "--tenant-max-pages", strconv.Itoa(limit))
	description := strings.Repeat("Fill the tenant database. ", 150) // 3,900 bytes
	var (
		written []string
		status  int
		body    []byte
	)
	for i := 0; i < 200; i++ {
		var err error
		status, body, err = postTool(http.DefaultClient, p.base, f.fullA, "projects.create_task",
			map[string]any{"project_id": f.projectA, "title": fmt.Sprintf("fill %d", i), "description": description})
		require.NoError(t, err)
		if status != http.StatusOK {
			break
		}
		var out struct {
			TaskID string `json:"task_id"`
		}
		require.NoError(t, json.Unmarshal(body, &out))
		written = append(written, out.TaskID)
	}
	require.NotEmpty(t, written, "the first write should fit under the limit")
	require.Equal(t, http.StatusServiceUnavailable, status, "a write past the limit: %s", body)

	// HTTP: the canonical envelope, a stable code, a message an agent can
	// act on, and nothing of SQLite's internals.
	var env map[string]any
	require.NoError(t, json.Unmarshal(body, &env), "%s", body)
	assert.Equal(t, float64(http.StatusServiceUnavailable), env["code"])
	assert.Equal(t, "unavailable", env["type"])
	assert.Equal(t, "storage_full", env["error"])
	assert.Contains(t, env["detail"], "the tenant's storage is full; nothing was written")
	assert.Equal(t, []any{}, env["errors"])
	for _, internal := range []string{"SQLITE", "sqlite", "disk is full", ".db", "(13)"} {
		assert.NotContains(t, string(body), internal)
	}

	// MCP: a tool error with the same code, not a protocol error.
	c := connectHTTP(t, p.base+"/mcp", f.fullA)
	res, out := call(t, c, "projects.create_task", map[string]any{"project_id": f.projectA, "title": "fill over MCP", "description": description})
	require.True(t, res.IsError, "%v", out)
	assert.Equal(t, "storage_full", out["error"])
	assert.Contains(t, out["message"], "nothing was written")

	// Reads still work on a full tenant.
	status, body, err := postTool(http.DefaultClient, p.base, f.fullA, "projects.get_task", map[string]any{"task_id": written[0]})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", body)
	p.kill(t)

	// Nothing partial: exactly the acknowledged tasks were added, and the
	// database is intact.
	tasks := readTaskTitles(t, path)
	assert.Len(t, tasks, before+len(written), "only the acknowledged writes are in the database")
	for _, id := range written {
		assert.Contains(t, tasks, id)
	}
	assert.Equal(t, "ok", integrityCheck(t, path))
	assert.LessOrEqual(t, pragmaInt(t, path, "page_count"), limit)
	t.Logf("limit %d pages (%d at start): %d tasks written, then storage_full over HTTP and MCP", limit, pages, len(written))

	// Room is made (the limit raised): writes succeed again.
	p = startCapd(t, f.data, "--rate-limit", "0", "--tenant-max-pages", strconv.Itoa(2*limit))
	status, body, err = postTool(http.DefaultClient, p.base, f.fullA, "projects.create_task",
		map[string]any{"project_id": f.projectA, "title": "after room was made", "description": description})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var ok struct {
		TaskID string `json:"task_id"`
	}
	require.NoError(t, json.Unmarshal(body, &ok))
	p.kill(t)
	tasks = readTaskTitles(t, path)
	assert.Len(t, tasks, before+len(written)+1)
	assert.Equal(t, "after room was made", tasks[ok.TaskID])
	assert.Equal(t, "ok", integrityCheck(t, path))
}

// pragmaInt returns the integer value of PRAGMA name on the database at path.
func pragmaInt(t *testing.T, path, name string) int {
	t.Helper()
	db := openReadOnly(t, path)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("PRAGMA "+name).Scan(&n))
	return n
}
