package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/internal/store/storecore"
)

var (
	ctlReadWrite = []capability.Scope{capability.ScopeProjectsWrite, capability.ScopeProjectsRead}
	ctlReadOnly  = []capability.Scope{capability.ScopeProjectsRead}
)

// ctlEpoch is the control tests' clock start: a non-UTC zone and a
// nanosecond part, so the tests see the store normalise both.
var ctlEpoch = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CET", 3600))

// ctlClock is a fake clock that advances a millisecond on every Now.
type ctlClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ctlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(time.Millisecond)
	return now
}

// Peek returns the time the next Now returns, as the store stores it.
func (c *ctlClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.UTC().Truncate(time.Microsecond)
}

func (c *ctlClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openControl opens a DB on a fresh database with a fake clock and
// returns its control store; the DB closes when t ends.
func openControl(t *testing.T) (*Control, *ctlClock, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	clock := &ctlClock{t: ctlEpoch}
	db, err := Open(context.Background(), dsn, Options{Now: clock.Now})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db.Control(), clock, dsn
}

// requireCode asserts err is an application error with code.
func requireCode(t *testing.T, code string, err error) {
	t.Helper()
	require.Equal(t, code, capability.ErrorCode(err), "error: %v", err)
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("OKMigratesControlSchemaOnce", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		for range 2 {
			db, err := Open(ctx, dsn, Options{})
			require.NoError(t, err)
			var version int64
			require.NoError(t, db.pool.QueryRow(ctx,
				"SELECT max(version_id) FROM capd_control.goose_db_version WHERE is_applied").Scan(&version))
			require.EqualValues(t, 6, version, "goose's version table lives in the control schema")
			var public int
			require.NoError(t, db.pool.QueryRow(ctx,
				"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&public))
			require.Zero(t, public, "nothing lands in the public schema")
			db.Close()
		}
	})

	t.Run("OKConcurrentNodes", func(t *testing.T) {
		// Several nodes starting at once on an empty database: one
		// migrates, the others wait for it and find the work done.
		dsn := pgtest.DSN(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				db, err := Open(ctx, dsn, Options{})
				if err == nil {
					db.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			require.NoError(t, <-errs)
		}
	})

	t.Run("ErrNewerSchema", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		db, err := Open(ctx, dsn, Options{})
		require.NoError(t, err)
		_, err = db.pool.Exec(ctx, "INSERT INTO capd_control.goose_db_version (version_id, is_applied) VALUES (9999, true)")
		require.NoError(t, err)
		db.Close()
		_, err = Open(ctx, dsn, Options{})
		require.ErrorContains(t, err, "use a newer capd")
	})

	t.Run("ErrBadDSN", func(t *testing.T) {
		_, err := Open(ctx, "postgres://127.0.0.1:1/nothing?connect_timeout=2", Options{})
		require.Error(t, err)
	})
}

func TestControlTenants(t *testing.T) {
	ctx := context.Background()
	control, clock, _ := openControl(t)

	t.Run("OK", func(t *testing.T) {
		want := clock.Peek()
		tenant := &capability.Tenant{Slug: "switchback-engineering", Name: "Switchback Engineering"}
		require.NoError(t, control.CreateTenant(ctx, tenant))
		require.Equal(t, want, tenant.CreatedAt)
		got, err := control.FindTenant(ctx, "switchback-engineering")
		require.NoError(t, err)
		require.Equal(t, tenant, got)
	})

	t.Run("OKNameDefaultsToSlug", func(t *testing.T) {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "driftline-design"}))
		got, err := control.FindTenant(ctx, "driftline-design")
		require.NoError(t, err)
		require.Equal(t, "driftline-design", got.Name)
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		err := control.CreateTenant(ctx, &capability.Tenant{Slug: "switchback-engineering", Name: "Other"})
		requireCode(t, capability.CodeAlreadyExists, err)
		got, err := control.FindTenant(ctx, "switchback-engineering")
		require.NoError(t, err)
		require.Equal(t, "Switchback Engineering", got.Name, "the duplicate changed nothing")
	})

	t.Run("ErrInvalidSlug", func(t *testing.T) {
		for _, slug := range []string{"", "x", "Upper", "under_score", "dot.ted", "-lead", "a/b", `a"; DROP SCHEMA capd_control; --`, string(make([]byte, 64))} {
			err := control.CreateTenant(ctx, &capability.Tenant{Slug: slug})
			requireCode(t, capability.CodeInvalidInput, err)
			require.NotEmpty(t, capability.AsError(err).Issues)
		}
	})

	t.Run("OKSlugBounds", func(t *testing.T) {
		long := "a123456789012345678901234567890123456789012345678901234567890-z" // 63
		require.Len(t, long, 63)
		for _, slug := range []string{"a1", "0-", long} {
			require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		}
		requireCode(t, capability.CodeInvalidInput, control.CreateTenant(ctx, &capability.Tenant{Slug: long + "x"}))
	})

	t.Run("ErrTableRejectsBadSlug", func(t *testing.T) {
		// The CHECK holds the rule for rows written around the store.
		_, err := control.pool.Exec(ctx, "INSERT INTO capd_control.tenants (slug, name, created_at) VALUES ('Bad.Slug', '', now())")
		require.ErrorContains(t, err, "check constraint")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := control.FindTenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("OKListOrderedBySlug", func(t *testing.T) {
		got, err := control.ListTenants(ctx)
		require.NoError(t, err)
		var slugs []string
		for _, tn := range got {
			slugs = append(slugs, tn.Slug)
			require.Equal(t, time.UTC, tn.CreatedAt.Location())
		}
		require.Equal(t, []string{"0-", "a1", "a123456789012345678901234567890123456789012345678901234567890-z",
			"driftline-design", "switchback-engineering"}, slugs)
	})
}

func TestControlListTenantsEmpty(t *testing.T) {
	control, _, _ := openControl(t)
	got, err := control.ListTenants(context.Background())
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestControlCreateKey(t *testing.T) {
	ctx := context.Background()
	control, clock, _ := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))

	t.Run("OK", func(t *testing.T) {
		want := clock.Peek()
		token, key, err := control.CreateKey(ctx, "acme", ctlReadWrite, time.Time{})
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^capd_[a-z2-7]{8}_[a-z2-7]{52}$`), token)
		require.Equal(t, "capd_"+key.Prefix+"_", token[:14])
		require.Equal(t, "acme", key.Tenant)
		require.Equal(t, []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsWrite}, key.Scopes, "sorted")
		require.Equal(t, want, key.CreatedAt)
		require.True(t, key.ExpiresAt.IsZero())

		var hash []byte
		require.NoError(t, control.pool.QueryRow(ctx, "SELECT secret_hash FROM capd_control.api_keys WHERE prefix = $1", key.Prefix).Scan(&hash))
		sum := sha256.Sum256([]byte(token))
		require.Equal(t, sum[:], hash, "only SHA-256 of the token is stored, as in SQLite")
	})

	t.Run("OKTokensDiffer", func(t *testing.T) {
		t1, k1, err := control.CreateKey(ctx, "acme", ctlReadOnly, time.Time{})
		require.NoError(t, err)
		t2, k2, err := control.CreateKey(ctx, "acme", ctlReadOnly, time.Time{})
		require.NoError(t, err)
		require.NotEqual(t, t1, t2)
		require.NotEqual(t, k1.Prefix, k2.Prefix)
	})

	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "ghost", ctlReadOnly, time.Time{})
		requireCode(t, capability.CodeNotFound, err)
		require.Contains(t, capability.AsError(err).Message, "ghost", "names the tenant")
	})

	t.Run("ErrNoScopes", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "acme", nil, time.Time{})
		requireCode(t, capability.CodeInvalidInput, err)
	})

	t.Run("ErrUnknownScope", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "acme", []capability.Scope{"projects.admin"}, time.Time{})
		requireCode(t, capability.CodeInvalidInput, err)
	})

	t.Run("ErrExpiryInPast", func(t *testing.T) {
		_, _, err := control.CreateKey(ctx, "acme", ctlReadOnly, clock.Peek().Add(-time.Second))
		requireCode(t, capability.CodeInvalidInput, err)
	})
}

func TestControlAuthenticate(t *testing.T) {
	ctx := context.Background()
	control, clock, _ := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := control.CreateKey(ctx, "acme", ctlReadWrite, time.Time{})
	require.NoError(t, err)

	t.Run("OK", func(t *testing.T) {
		p, err := control.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, capability.Principal{
			Tenant:    "acme",
			KeyPrefix: key.Prefix,
			Scopes:    []capability.Scope{capability.ScopeProjectsRead, capability.ScopeProjectsWrite},
		}, p)
	})

	t.Run("OKWithExpiry", func(t *testing.T) {
		expires := clock.Peek().Add(time.Hour)
		tok, _, err := control.CreateKey(ctx, "acme", ctlReadOnly, expires)
		require.NoError(t, err)
		p, err := control.Authenticate(ctx, tok)
		require.NoError(t, err)
		require.True(t, expires.Equal(p.ExpiresAt))
		require.True(t, p.Allows(capability.ScopeProjectsRead))
		require.False(t, p.Allows(capability.ScopeProjectsWrite))
	})

	t.Run("ErrExpired", func(t *testing.T) {
		tok, _, err := control.CreateKey(ctx, "acme", ctlReadOnly, clock.Peek().Add(time.Minute))
		require.NoError(t, err)
		clock.Advance(time.Minute)
		_, err = control.Authenticate(ctx, tok)
		requireCode(t, capability.CodeUnauthenticated, err)
		require.Contains(t, capability.AsError(err).Message, "expired")
	})

	t.Run("ErrMissing", func(t *testing.T) {
		_, err := control.Authenticate(ctx, "")
		requireCode(t, capability.CodeUnauthenticated, err)
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		forged := "capd_" + key.Prefix + "_" + strings.Repeat("a", 52) // real prefix, wrong secret
		_, err := control.Authenticate(ctx, forged)
		requireCode(t, capability.CodeUnauthenticated, err)
		require.Equal(t, storecore.InvalidToken, capability.AsError(err).Message, "reveals nothing about the real key")

		_, err = control.Authenticate(ctx, "capd_aaaaaaaa_"+strings.Repeat("b", 52))
		requireCode(t, capability.CodeUnauthenticated, err)
	})

	t.Run("ErrMalformed", func(t *testing.T) {
		for _, tok := range []string{
			"x",
			strings.ToUpper(token),
			token + "a",
			token[:len(token)-1],
			"capd-" + token[5:],
			"capd_" + key.Prefix + "-" + token[14:],
			token[:20] + "1" + token[21:], // '1' is not base32
			"Bearer " + token,
			"capd_' OR '1'='1_" + strings.Repeat("a", 45),
		} {
			_, err := control.Authenticate(ctx, tok)
			requireCode(t, capability.CodeUnauthenticated, err)
		}
	})

	t.Run("ErrRevoked", func(t *testing.T) {
		tok, k, err := control.CreateKey(ctx, "acme", ctlReadOnly, time.Time{})
		require.NoError(t, err)
		require.NoError(t, control.RevokeKey(ctx, k.Prefix))
		_, err = control.Authenticate(ctx, tok)
		requireCode(t, capability.CodeUnauthenticated, err)
		require.Contains(t, capability.AsError(err).Message, "revoked")
		// Another key of the tenant is unaffected.
		_, err = control.Authenticate(ctx, token)
		require.NoError(t, err)
	})
}

func TestControlRevokeKey(t *testing.T) {
	ctx := context.Background()
	control, clock, _ := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))

	t.Run("OKTwiceKeepsFirstTime", func(t *testing.T) {
		_, k, err := control.CreateKey(ctx, "acme", ctlReadOnly, time.Time{})
		require.NoError(t, err)
		first := clock.Peek()
		require.NoError(t, control.RevokeKey(ctx, k.Prefix))
		require.NoError(t, control.RevokeKey(ctx, k.Prefix))
		keys, err := control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, first, keys[len(keys)-1].RevokedAt)
	})

	t.Run("OKDisplayedFormAndToken", func(t *testing.T) {
		for _, form := range []func(token, prefix string) string{
			func(_, prefix string) string { return "capd_" + prefix },
			func(token, _ string) string { return token },
		} {
			tok, k, err := control.CreateKey(ctx, "acme", ctlReadOnly, time.Time{})
			require.NoError(t, err)
			require.NoError(t, control.RevokeKey(ctx, form(tok, k.Prefix)))
			_, err = control.Authenticate(ctx, tok)
			requireCode(t, capability.CodeUnauthenticated, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, control.RevokeKey(ctx, "zzzzzzzz"), capability.ErrNotFound)
		require.ErrorIs(t, control.RevokeKey(ctx, ""), capability.ErrNotFound)
	})
}

// TestControlAcrossNodes: a key created or revoked through one node's
// store takes effect on another's at once (nothing is cached).
func TestControlAcrossNodes(t *testing.T) {
	ctx := context.Background()
	node1, _, dsn := openControl(t)
	db2, err := Open(ctx, dsn, Options{})
	require.NoError(t, err)
	t.Cleanup(db2.Close)
	node2 := db2.Control()

	require.NoError(t, node1.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := node1.CreateKey(ctx, "acme", ctlReadWrite, time.Time{})
	require.NoError(t, err)

	t.Run("OKKeyCreatedElsewhereWorksAtOnce", func(t *testing.T) {
		p, err := node2.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, "acme", p.Tenant)
	})

	t.Run("ErrDuplicateTenantOnOtherNode", func(t *testing.T) {
		requireCode(t, capability.CodeAlreadyExists, node2.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	})

	t.Run("ErrRevokedElsewhere", func(t *testing.T) {
		require.NoError(t, node2.RevokeKey(ctx, key.Prefix))
		_, err := node1.Authenticate(ctx, token)
		requireCode(t, capability.CodeUnauthenticated, err)
	})
}

func TestControlListKeys(t *testing.T) {
	ctx := context.Background()
	control, _, _ := openControl(t)
	for _, slug := range []string{"tenant-a", "tenant-b"} {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	var aPrefixes []string
	for range 3 {
		_, k, err := control.CreateKey(ctx, "tenant-a", ctlReadOnly, time.Time{})
		require.NoError(t, err)
		aPrefixes = append(aPrefixes, k.Prefix)
	}
	_, bKey, err := control.CreateKey(ctx, "tenant-b", ctlReadWrite, time.Time{})
	require.NoError(t, err)

	t.Run("OKOldestFirstOwnTenantOnly", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "tenant-a")
		require.NoError(t, err)
		var got []string
		for _, k := range keys {
			got = append(got, k.Prefix)
			require.Equal(t, "tenant-a", k.Tenant)
			require.Equal(t, ctlReadOnly, k.Scopes)
			require.True(t, k.RevokedAt.IsZero())
			require.True(t, k.LastUsed.IsZero())
		}
		require.Equal(t, aPrefixes, got)
	})

	t.Run("OKOtherTenant", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "tenant-b")
		require.NoError(t, err)
		require.Len(t, keys, 1)
		require.Equal(t, bKey.Prefix, keys[0].Prefix)
	})

	t.Run("OKEmpty", func(t *testing.T) {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "keyless"}))
		keys, err := control.ListKeys(ctx, "keyless")
		require.NoError(t, err)
		require.Empty(t, keys)
	})

	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, err := control.ListKeys(ctx, "ghost")
		requireCode(t, capability.CodeNotFound, err)
	})
}

func TestControlPinKey(t *testing.T) {
	ctx := context.Background()
	control, _, _ := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := control.CreateKey(ctx, "acme", capability.AllScopes, time.Time{})
	require.NoError(t, err)

	t.Run("OK", func(t *testing.T) {
		pins := map[string]string{"projects.create_task": "0.1.0", "projects.get_task": "0.1.0"}
		require.NoError(t, control.PinKey(ctx, key.Prefix, pins))
		p, err := control.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, pins, p.Pins)
		keys, err := control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, pins, keys[0].Pins)
	})

	t.Run("OKReplaces", func(t *testing.T) {
		pins := map[string]string{"projects.list_tasks": "0.2.0"}
		require.NoError(t, control.PinKey(ctx, key.Prefix, pins))
		p, err := control.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, pins, p.Pins)
	})

	t.Run("OKClear", func(t *testing.T) {
		require.NoError(t, control.PinKey(ctx, key.Prefix, nil))
		p, err := control.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Nil(t, p.Pins)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, control.PinKey(ctx, "zzzzzzzz", map[string]string{"a.b": "0.1.0"}), capability.ErrNotFound)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, pins := range []map[string]string{{"a.b": "0.1.0,x"}, {"a@b": "0.1.0"}, {"": "0.1.0"}, {"a.b": ""}} {
			requireCode(t, capability.CodeInvalidInput, control.PinKey(ctx, key.Prefix, pins))
		}
	})
}

func TestControlCalls(t *testing.T) {
	ctx := context.Background()
	control, _, _ := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	_, key, err := control.CreateKey(ctx, "acme", ctlReadOnly, time.Time{})
	require.NoError(t, err)

	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	call := func(i int, tenant string) capability.CallRecord {
		return capability.CallRecord{
			At: base.Add(time.Duration(i) * time.Second), Tenant: tenant, KeyPrefix: key.Prefix,
			Capability: "projects.create_task@0.1.0", Outcome: "ok", Duration: time.Duration(i+1) * 1500 * time.Microsecond,
			Replayed: i == 2,
		}
	}
	batch := []capability.CallRecord{call(0, "acme"), call(2, "acme"), call(1, "other"), call(3, "acme")}
	require.NoError(t, control.RecordCalls(ctx, batch))

	t.Run("OKNewestFirst", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "acme", time.Time{}, 0)
		require.NoError(t, err)
		require.Equal(t, []capability.CallRecord{batch[3], batch[1], batch[0]}, got)
	})

	t.Run("OKSinceInclusive", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "acme", base.Add(2*time.Second), 0)
		require.NoError(t, err)
		require.Equal(t, []capability.CallRecord{batch[3], batch[1]}, got)
	})

	t.Run("OKLimit", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "acme", time.Time{}, 1)
		require.NoError(t, err)
		require.Equal(t, []capability.CallRecord{batch[3]}, got)
	})

	t.Run("OKAllTenants", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "", time.Time{}, 0)
		require.NoError(t, err)
		require.Len(t, got, 4)
		require.Equal(t, batch[2], got[2])
	})

	t.Run("OKUnauthenticatedCallLogged", func(t *testing.T) {
		failed := capability.CallRecord{At: base.Add(-time.Hour), Capability: "projects.create_task", Outcome: capability.CodeUnauthenticated}
		require.NoError(t, control.RecordCalls(ctx, []capability.CallRecord{failed}))
		got, err := control.ListCalls(ctx, "", time.Time{}, 0)
		require.NoError(t, err)
		require.Equal(t, failed, got[len(got)-1])
	})

	t.Run("OKLastUsedFollowsNewestCall", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, base.Add(3*time.Second), keys[0].LastUsed)
		// An older batch arriving late does not move it back.
		require.NoError(t, control.RecordCalls(ctx, []capability.CallRecord{call(-5, "acme")}))
		keys, err = control.ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, base.Add(3*time.Second), keys[0].LastUsed)
	})

	t.Run("OKEmptyBatch", func(t *testing.T) {
		require.NoError(t, control.RecordCalls(ctx, nil))
	})
}

func TestControlConformance(t *testing.T) {
	ctx := context.Background()
	control, _, _ := openControl(t)
	at := time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)
	results := []capability.ConformanceResult{
		{RunID: "r1", Provider: "projectkit:a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "happy_path", Kind: "happy", Outcome: "pass", Duration: 896 * time.Millisecond, StartedAt: at},
		{RunID: "r1", Provider: "projectkit:a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "rejects_unknown_project", Kind: "rejection", Outcome: "fail", Duration: 38 * time.Millisecond, StartedAt: at.Add(time.Second), Message: "got ok"},
		{RunID: "r2", Provider: "projectkit:b", Capability: "projects.get_task", Version: "0.1.0", CaseID: "gen.missing_required.task_id", Kind: "generated", Outcome: "pass", StartedAt: at.Add(2 * time.Second)},
	}
	require.NoError(t, control.RecordConformance(ctx, results))

	t.Run("OKNewestFirst", func(t *testing.T) {
		all, err := control.ListConformance(ctx, capability.ConformanceFilter{})
		require.NoError(t, err)
		require.Len(t, all, 3)
		require.Equal(t, "r2", all[0].RunID)
		require.Equal(t, results[1], all[1])
	})

	t.Run("OKFilters", func(t *testing.T) {
		failed, err := control.ListConformance(ctx, capability.ConformanceFilter{Outcome: "fail", Provider: "projectkit:a"})
		require.NoError(t, err)
		require.Len(t, failed, 1)
		require.Equal(t, "rejects_unknown_project", failed[0].CaseID)
		run, err := control.ListConformance(ctx, capability.ConformanceFilter{RunID: "r1", Capability: "projects.create_task", Version: "0.1.0"})
		require.NoError(t, err)
		require.Len(t, run, 2)
	})

	t.Run("OKPage", func(t *testing.T) {
		page, err := control.ListConformance(ctx, capability.ConformanceFilter{Limit: 1, Offset: 1})
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, "rejects_unknown_project", page[0].CaseID)
	})

	t.Run("ErrBadKindRecordsNothing", func(t *testing.T) {
		err := control.RecordConformance(ctx, []capability.ConformanceResult{
			{RunID: "r3", Provider: "projectkit:a", Kind: "happy", Outcome: "pass", StartedAt: at},
			{RunID: "r3", Provider: "projectkit:a", Kind: "bogus", Outcome: "pass", StartedAt: at},
		})
		require.Error(t, err, "kinds are checked")
		got, err := control.ListConformance(ctx, capability.ConformanceFilter{RunID: "r3"})
		require.NoError(t, err)
		require.Empty(t, got, "a run is recorded whole or not at all")
	})

	t.Run("OKEmpty", func(t *testing.T) {
		require.NoError(t, control.RecordConformance(ctx, nil))
	})
}

func TestControlLatestConformance(t *testing.T) {
	ctx := context.Background()
	control, _, _ := openControl(t)
	at := time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)
	r := func(run, provider, caseID, outcome string, offset time.Duration) capability.ConformanceResult {
		return capability.ConformanceResult{RunID: run, Provider: provider, Capability: "projects.create_task", Version: "0.1.0",
			CaseID: caseID, Kind: "happy", Outcome: outcome, StartedAt: at.Add(offset)}
	}
	require.NoError(t, control.RecordConformance(ctx, []capability.ConformanceResult{
		r("r1", "projectkit:a", "happy_path", "fail", 0),
		r("r1", "projectkit:a", "rejects_unknown_project", "pass", time.Second),
		r("r1", "projectkit:b", "happy_path", "pass", 2*time.Second),
	}))
	require.NoError(t, control.RecordConformance(ctx, []capability.ConformanceResult{
		r("r2", "projectkit:a", "happy_path", "pass", time.Hour),
	}))

	t.Run("OKNewestPerCase", func(t *testing.T) {
		latest, err := control.LatestConformance(ctx, capability.ConformanceFilter{})
		require.NoError(t, err)
		require.Len(t, latest, 3)
		require.Equal(t, "r2", latest[0].RunID, "projectkit:a happy_path: the newer run wins")
		require.Equal(t, "pass", latest[0].Outcome)
		require.Equal(t, "rejects_unknown_project", latest[1].CaseID)
		require.Equal(t, "projectkit:b", latest[2].Provider)
	})

	t.Run("OKProviderFilter", func(t *testing.T) {
		onlyB, err := control.LatestConformance(ctx, capability.ConformanceFilter{Provider: "projectkit:b"})
		require.NoError(t, err)
		require.Len(t, onlyB, 1)
	})
}

// TestControlTenantIsolation: what belongs to one tenant never shows up as
// another's, whatever is asked.
func TestControlTenantIsolation(t *testing.T) {
	ctx := context.Background()
	control, _, _ := openControl(t)
	for _, slug := range []string{"tenant-a", "tenant-b"} {
		require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	}
	aToken, aKey, err := control.CreateKey(ctx, "tenant-a", capability.AllScopes, time.Time{})
	require.NoError(t, err)
	bToken, bKey, err := control.CreateKey(ctx, "tenant-b", ctlReadOnly, time.Time{})
	require.NoError(t, err)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, control.RecordCalls(ctx, []capability.CallRecord{
		{At: at, Tenant: "tenant-a", KeyPrefix: aKey.Prefix, Capability: "projects.create_task@0.1.0", Outcome: "ok"},
	}))
	require.NoError(t, control.RecordConformance(ctx, []capability.ConformanceResult{
		{RunID: "ra", Provider: "projectkit:tenant-a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "happy_path", Kind: "happy", Outcome: "pass", StartedAt: at},
	}))
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "tenant-a", Name: "private"})

	t.Run("KeysAuthenticateAsTheirOwnTenant", func(t *testing.T) {
		p, err := control.Authenticate(ctx, aToken)
		require.NoError(t, err)
		require.Equal(t, "tenant-a", p.Tenant)
		p, err = control.Authenticate(ctx, bToken)
		require.NoError(t, err)
		require.Equal(t, "tenant-b", p.Tenant)
		require.False(t, p.Allows(capability.ScopeProjectsWrite), "B's key does not gain A's scopes")
	})

	t.Run("ErrMixedTokenParts", func(t *testing.T) {
		// B's prefix with A's secret, and A's prefix with B's secret.
		for _, tok := range []string{
			"capd_" + bKey.Prefix + aToken[13:],
			"capd_" + aKey.Prefix + bToken[13:],
		} {
			_, err := control.Authenticate(ctx, tok)
			requireCode(t, capability.CodeUnauthenticated, err)
		}
	})

	t.Run("KeysListedForTheirTenantOnly", func(t *testing.T) {
		keys, err := control.ListKeys(ctx, "tenant-b")
		require.NoError(t, err)
		require.Len(t, keys, 1)
		require.Equal(t, bKey.Prefix, keys[0].Prefix)
	})

	t.Run("CallsNotListedForOtherTenant", func(t *testing.T) {
		got, err := control.ListCalls(ctx, "tenant-b", time.Time{}, 0)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = control.ListCalls(ctx, "tenant-a", time.Time{}, 0)
		require.NoError(t, err)
		require.Len(t, got, 1)
	})

	t.Run("ConformanceNotListedForOtherTenant", func(t *testing.T) {
		got, err := control.ListConformance(ctx, capability.ConformanceFilter{Provider: "projectkit:tenant-b"})
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = control.LatestConformance(ctx, capability.ConformanceFilter{Provider: "projectkit:tenant-b"})
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("PrivateSetsHidden", func(t *testing.T) {
		_, err := control.FindSet(ctx, "tenant-b", "private")
		require.ErrorIs(t, err, capability.ErrNotFound)
		got, err := control.ListSets(ctx, capability.SetFilter{Owner: "tenant-b", WithPublic: true})
		require.NoError(t, err)
		require.Empty(t, got)
		require.ErrorIs(t, control.DeleteSet(ctx, "tenant-b", "private"), capability.ErrNotFound)
		_, err = control.FindSet(ctx, "tenant-a", "private")
		require.NoError(t, err, "B's attempt changed nothing")
	})

	t.Run("OKRevokingOneTenantsKeyLeavesTheOther", func(t *testing.T) {
		require.NoError(t, control.RevokeKey(ctx, bKey.Prefix))
		_, err := control.Authenticate(ctx, aToken)
		require.NoError(t, err, "revoking B's key leaves A's alone")
	})
}

// TestControlTokenCompatibleWithSQLite: a key made by the SQLite store,
// moved as its stored row (prefix, hash, scopes), authenticates against
// this store, so capd migrate can move keys without reissuing them.
func TestControlTokenCompatibleWithSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lite, err := sqlite.Open(ctx, sqlite.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, lite.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := lite.Control().CreateKey(ctx, "acme", ctlReadWrite, time.Time{})
	require.NoError(t, err)
	require.NoError(t, lite.Close())

	raw, err := sql.Open("sqlite", filepath.Join(dir, "control.db"))
	require.NoError(t, err)
	defer raw.Close()
	var hash []byte
	var scopes string
	require.NoError(t, raw.QueryRowContext(ctx, "SELECT secret_hash, scopes FROM api_keys WHERE prefix = ?", key.Prefix).Scan(&hash, &scopes))

	control, _, _ := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	_, err = control.pool.Exec(ctx, `INSERT INTO capd_control.api_keys (prefix, tenant, secret_hash, scopes, created_at)
		VALUES ($1, 'acme', $2, string_to_array($3, ','), now())`, key.Prefix, hash, scopes)
	require.NoError(t, err)

	p, err := control.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, "acme", p.Tenant)
	require.Equal(t, key.Scopes, p.Scopes)
}

// ---- capability sets

// openSetsControl returns a control store with tenants acme and globex.
func openSetsControl(t *testing.T) (*Control, *ctlClock) {
	t.Helper()
	control, clock, _ := openControl(t)
	for _, slug := range []string{"acme", "globex"} {
		require.NoError(t, control.CreateTenant(context.Background(), &capability.Tenant{Slug: slug}))
	}
	return control, clock
}

// mustCreateCtlSet creates s and returns it.
func mustCreateCtlSet(t *testing.T, c *Control, s *capability.CapabilitySet) *capability.CapabilitySet {
	t.Helper()
	require.NoError(t, c.CreateSet(context.Background(), s))
	return s
}

// ctlSetKeys returns "owner/name" of each set, in order.
func ctlSetKeys(sets []*capability.CapabilitySet) []string {
	out := make([]string, len(sets))
	for i, s := range sets {
		out[i] = s.Owner + "/" + s.Name
	}
	return out
}

func TestControlCreateSet(t *testing.T) {
	ctx := context.Background()
	control, clock := openSetsControl(t)

	t.Run("OKRoundTrip", func(t *testing.T) {
		want := clock.Peek()
		s := mustCreateCtlSet(t, control, &capability.CapabilitySet{
			Owner: "acme", Name: "triage", Description: "Triage tools", IsPublic: true,
			Members: []capability.SetMember{
				{Name: "projects.list"},
				{Name: "tasks.create", Version: "1.2.0"},
				{Name: "tasks.update", Notes: "status only"},
				{Name: "tasks.find", Version: "2.0.0", Notes: "pinned for the eval"},
			},
			Source: "cli", Tags: []string{"ops", "daily"}, CreatedBy: "k3x9m2ab",
		})
		require.Equal(t, want, s.CreatedAt)
		require.Equal(t, want, s.UpdatedAt)
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, s, got, "member and tag order kept")
	})

	t.Run("OKNilListsStoredEmpty", func(t *testing.T) {
		s := mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "empty"})
		require.Equal(t, []capability.SetMember{}, s.Members)
		got, err := control.FindSet(ctx, "acme", "empty")
		require.NoError(t, err)
		require.Equal(t, []capability.SetMember{}, got.Members)
		require.Equal(t, []string{}, got.Tags)
	})

	t.Run("OKSameNameOtherOwner", func(t *testing.T) {
		mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "triage"})
	})

	t.Run("OKNameBounds", func(t *testing.T) {
		mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "a"})
		mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: strings.Repeat("b", 63)})
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		err := control.CreateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "triage", Description: "other"})
		requireCode(t, capability.CodeAlreadyExists, err)
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, "Triage tools", got.Description, "the duplicate changed nothing")
	})

	t.Run("ErrInvalidName", func(t *testing.T) {
		for _, name := range []string{"", "Upper", "-lead", "under_score", "dot.ted", strings.Repeat("c", 64)} {
			err := control.CreateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: name})
			requireCode(t, capability.CodeInvalidInput, err)
		}
	})

	t.Run("ErrUnknownOwner", func(t *testing.T) {
		err := control.CreateSet(ctx, &capability.CapabilitySet{Owner: "ghost", Name: "triage"})
		requireCode(t, capability.CodeNotFound, err)
	})

	t.Run("ErrTableRejectsBadName", func(t *testing.T) {
		_, err := control.pool.Exec(ctx, `INSERT INTO capd_control.capability_sets
			(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
			VALUES ('acme', 'Bad_Name', '', false, '[]', '', '[]', '', now(), now())`)
		require.ErrorContains(t, err, "check constraint")
	})

	t.Run("ErrTableRejectsNonArrayMembers", func(t *testing.T) {
		_, err := control.pool.Exec(ctx, `INSERT INTO capd_control.capability_sets
			(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
			VALUES ('acme', 'objecty', '', false, '{}', '', '[]', '', now(), now())`)
		require.ErrorContains(t, err, "check constraint")
	})
}

func TestControlFindSets(t *testing.T) {
	ctx := context.Background()
	control, _ := openSetsControl(t)
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "triage", IsPublic: true})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "triage", IsPublic: true})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "secret"})

	t.Run("OK", func(t *testing.T) {
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, "acme", got.Owner)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := control.FindSet(ctx, "acme", "missing")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrNotFoundForOtherOwner", func(t *testing.T) {
		_, err := control.FindSet(ctx, "acme", "secret")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("OKPublicAcrossOwnersByOwner", func(t *testing.T) {
		got, err := control.FindPublicSets(ctx, "triage")
		require.NoError(t, err)
		require.Equal(t, []string{"acme/triage", "globex/triage"}, ctlSetKeys(got))
	})

	t.Run("OKPublicNone", func(t *testing.T) {
		got, err := control.FindPublicSets(ctx, "secret")
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

func TestControlListSets(t *testing.T) {
	ctx := context.Background()
	control, _ := openSetsControl(t)
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "beta", Tags: []string{"ops"}})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "alpha", IsPublic: true, Tags: []string{"ops", "daily"}})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "alpha", IsPublic: true, Tags: []string{"daily"}})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "gamma", Tags: []string{"ops"}})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "delta", IsPublic: true, Tags: []string{"operations"}})

	list := func(t *testing.T, f capability.SetFilter) []string {
		t.Helper()
		got, err := control.ListSets(ctx, f)
		require.NoError(t, err)
		return ctlSetKeys(got)
	}

	t.Run("OKOwnSetsOnly", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme"}))
		require.Equal(t, []string{"globex/alpha", "globex/delta", "globex/gamma"}, list(t, capability.SetFilter{Owner: "globex"}))
	})

	t.Run("OKWithPublicByNameThenOwner", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "globex/alpha", "acme/beta", "globex/delta"},
			list(t, capability.SetFilter{Owner: "acme", WithPublic: true}))
	})

	t.Run("OKUnknownOwnerSeesPublicOnly", func(t *testing.T) {
		require.Empty(t, list(t, capability.SetFilter{Owner: "initech"}))
		require.Equal(t, []string{"acme/alpha", "globex/alpha", "globex/delta"},
			list(t, capability.SetFilter{Owner: "initech", WithPublic: true}))
	})

	t.Run("OKTagMatchesExactly", func(t *testing.T) {
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme", Tag: "ops"}))
		require.Equal(t, []string{"acme/alpha", "acme/beta"}, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "ops"}),
			`"ops" does not match "operations"; globex/gamma is private`)
		require.Equal(t, []string{"acme/alpha", "globex/alpha"}, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "daily"}))
		require.Empty(t, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: "op%"}))
		require.Empty(t, list(t, capability.SetFilter{Owner: "acme", WithPublic: true, Tag: `"ops"`}))
	})

	t.Run("OKPages", func(t *testing.T) {
		f := capability.SetFilter{Owner: "acme", WithPublic: true, Limit: 3}
		require.Equal(t, []string{"acme/alpha", "globex/alpha", "acme/beta"}, list(t, f))
		f.Offset = 3
		require.Equal(t, []string{"globex/delta"}, list(t, f))
		f.Offset = 4
		require.Empty(t, list(t, f))
		f.Offset = -1
		require.Len(t, list(t, f), 3, "a negative offset is zero")
	})
}

func TestControlListSetsLimits(t *testing.T) {
	ctx := context.Background()
	control, _ := openSetsControl(t)
	_, err := control.pool.Exec(ctx, `INSERT INTO capd_control.capability_sets
		(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
		SELECT 'acme', 'set-' || lpad(i::text, 3, '0'), '', false, '[]', '', '[]', '', now(), now()
		FROM generate_series(0, $1) AS i`, MaxSetsLimit)
	require.NoError(t, err)
	count := func(limit int) int {
		got, err := control.ListSets(ctx, capability.SetFilter{Owner: "acme", Limit: limit})
		require.NoError(t, err)
		return len(got)
	}

	t.Run("OKDefault", func(t *testing.T) {
		require.Equal(t, DefaultSetsLimit, count(0))
		require.Equal(t, DefaultSetsLimit, count(-1))
	})

	t.Run("OKCapped", func(t *testing.T) {
		require.Equal(t, MaxSetsLimit, count(MaxSetsLimit+1))
	})
}

func TestControlUpdateSet(t *testing.T) {
	ctx := context.Background()
	control, clock := openSetsControl(t)
	orig := mustCreateCtlSet(t, control, &capability.CapabilitySet{
		Owner: "acme", Name: "triage", Description: "old", Members: []capability.SetMember{{Name: "a"}},
		Source: "cli", Tags: []string{"old"}, CreatedBy: "k3x9m2ab",
	})

	t.Run("OK", func(t *testing.T) {
		clock.Advance(time.Hour)
		want := clock.Peek()
		s := &capability.CapabilitySet{
			Owner: "acme", Name: "triage", Description: "new", IsPublic: true,
			Members: []capability.SetMember{{Name: "b", Version: "1.0.0", Notes: "pinned"}},
			Source:  "api", Tags: []string{"new"},
		}
		require.NoError(t, control.UpdateSet(ctx, s))
		require.Equal(t, want, s.UpdatedAt)
		require.Equal(t, orig.CreatedAt, s.CreatedAt, "set from the stored row")
		require.Equal(t, "k3x9m2ab", s.CreatedBy, "set from the stored row")
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, s, got)
		public, err := control.FindPublicSets(ctx, "triage")
		require.NoError(t, err)
		require.Equal(t, []string{"acme/triage"}, ctlSetKeys(public))
	})

	t.Run("OKNilListsStoredEmpty", func(t *testing.T) {
		require.NoError(t, control.UpdateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "triage"}))
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.Equal(t, []capability.SetMember{}, got.Members)
		require.Equal(t, []string{}, got.Tags)
		require.False(t, got.IsPublic)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := control.UpdateSet(ctx, &capability.CapabilitySet{Owner: "acme", Name: "missing"})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("ErrNotFoundForOtherOwner", func(t *testing.T) {
		err := control.UpdateSet(ctx, &capability.CapabilitySet{Owner: "globex", Name: "triage", Description: "hijack"})
		require.ErrorIs(t, err, capability.ErrNotFound)
		got, err := control.FindSet(ctx, "acme", "triage")
		require.NoError(t, err)
		require.NotEqual(t, "hijack", got.Description)
	})
}

func TestControlDeleteSet(t *testing.T) {
	ctx := context.Background()
	control, _ := openSetsControl(t)
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "triage"})
	mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "globex", Name: "triage"})

	t.Run("OK", func(t *testing.T) {
		require.NoError(t, control.DeleteSet(ctx, "acme", "triage"))
		_, err := control.FindSet(ctx, "acme", "triage")
		require.ErrorIs(t, err, capability.ErrNotFound)
		_, err = control.FindSet(ctx, "globex", "triage")
		require.NoError(t, err, "the other owner's set of the same name stays")
	})

	t.Run("OKNameFreeAgain", func(t *testing.T) {
		mustCreateCtlSet(t, control, &capability.CapabilitySet{Owner: "acme", Name: "triage"})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, control.DeleteSet(ctx, "acme", "missing"), capability.ErrNotFound)
		require.ErrorIs(t, control.DeleteSet(ctx, "ghost", "triage"), capability.ErrNotFound)
	})
}
