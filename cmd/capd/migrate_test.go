package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/internal/store/transfer/transfertest"
)

// TestMigrateCLI moves a data directory the way an operator would: the
// copy reports every table matching and a key made under SQLite works
// against PostgreSQL; running it again is refused with exit 2 and a pointer
// to --resume, which then succeeds; a target changed afterwards fails
// --verify-only with exit 1.
func TestMigrateCLI(t *testing.T) {
	ctx := context.Background()
	f := transfertest.Populate(t, t.TempDir(), transfertest.Options{Tenants: 2, Tasks: 6})
	dsn := pgtest.DSN(t)
	from := "--from=sqlite:" + f.Dir

	out, err := runCLI(t, "migrate", from, "--to", dsn)
	require.NoError(t, err, out)
	for _, want := range []string{"tenant acme-corp: copied; verified", "tenant beta-labs", "tenant idle-tenant",
		"control.api_keys", "task_run_artifacts", "control.calls", "rows/s", "truncated", "tables match", "next: capd serve --store 'postgres://"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "MISMATCH")

	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	require.NoError(t, err)
	defer db.Close()
	p, err := db.Control().Authenticate(ctx, f.Tokens["live"])
	require.NoError(t, err, "a key created in SQLite authenticates against PostgreSQL")
	assert.Equal(t, "acme-corp", p.Tenant)
	_, err = db.Control().Authenticate(ctx, f.Tokens["revoked"])
	assert.ErrorContains(t, err, "revoked")

	out, code := runBinary(t, nil, "migrate", from, "--to", dsn)
	assert.Equal(t, 2, code, out)
	for _, want := range []string{"--to postgres://", "acme-corp", "beta-labs", "--resume"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "copied;", "nothing was copied")

	out, err = runCLI(t, "migrate", from, "--to", dsn, "--resume")
	require.NoError(t, err, out)
	assert.Contains(t, out, "tenant acme-corp: already in the target (resumed); verified")

	_, err = db.Pool().Exec(ctx, `UPDATE "tenant_beta-labs".task_actions SET state = 'done' WHERE state = 'open'`)
	require.NoError(t, err)
	out, code = runBinary(t, nil, "migrate", from, "--to", dsn, "--verify-only")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "MISMATCH")
	assert.Contains(t, out, "1 table(s) differ")
	assert.Regexp(t, `task_actions\s+12 source, 12 target\s+\S+ source, \S+ target\s+MISMATCH`, out)
}

// TestMigrateCLIBadInput gives each flag a wrong value: every answer names
// the flag and says what to give instead, never echoes a password, and
// exits 2 (1 when the server cannot be reached).
func TestMigrateCLIBadInput(t *testing.T) {
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), sqlite.Options{Dir: data})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	from := "--from=sqlite:" + data
	to := "--to=postgres://capd@127.0.0.1:5432/capd"

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"NoFrom", []string{to}, 2, []string{"--from is required", "sqlite:"}},
		{"FromNotSQLite", []string{"--from", data, to}, 2, []string{"--from", "sqlite:DIR"}},
		{"FromPostgres", []string{"--from", "postgres://x@y/z", to}, 2, []string{"--from", "sqlite:DIR"}},
		{"FromEmpty", []string{"--from", "sqlite:", to}, 2, []string{"names no directory"}},
		{"FromMissing", []string{"--from", "sqlite:/nonexistent/capd-data", to}, 2, []string{"--from", "does not exist", "--data"}},
		{"FromNotADataDir", []string{"--from", "sqlite:" + t.TempDir(), to}, 2, []string{"--from", "no control.db"}},
		{"NoTo", []string{from}, 2, []string{"--to is required", "postgres://"}},
		{"ToNotPostgres", []string{from, "--to", "mysql://capd:s3cret@db/capd"}, 2, []string{"--to", "not a PostgreSQL URL", "postgres://USER@HOST:PORT/DATABASE"}},
		{"ToNoDatabase", []string{from, "--to", "postgres://capd@127.0.0.1:5432"}, 2, []string{"--to", "names no database"}},
		{"ToUnreachable", []string{from, "--to", "postgres://capd:s3cret@127.0.0.1:1/capd"}, 1, []string{"--to postgres://capd@127.0.0.1:1/capd", "cannot use the database", "running and reachable"}},
		{"Jobs", []string{from, to, "--jobs", "0"}, 2, []string{"--jobs"}},
		{"ResumeAndVerify", []string{from, to, "--resume", "--verify-only"}, 2, []string{"--resume", "--verify-only"}},
		{"Argument", []string{from, to, "extra"}, 2, []string{"takes no arguments", "extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"migrate"}, tc.args...)...)
			require.Error(t, err)
			msg := out + err.Error()
			assert.Equal(t, tc.code, exitCode(err), msg)
			for _, want := range tc.want {
				assert.Contains(t, msg, want)
			}
			assert.NotContains(t, msg, "s3cret")
		})
	}
}
