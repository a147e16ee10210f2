package postgres

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

var _ capability.ControlStore = (*Control)(nil)

// Control is the control schema: tenants, API keys, the call log,
// conformance results and capability sets. It implements
// capability.ControlStore with the same rules, messages and token format as
// the SQLite store, so keys and data move between the engines unchanged.
//
// Nothing is cached: a tenant or key that another node creates or revokes
// takes effect on the next request everywhere.
type Control struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// Listing bounds, the same as the SQLite store's: ListCalls and
// ListConformance return DefaultCallsLimit rows when the limit is zero or
// below; ListSets returns DefaultSetsLimit sets then, and never more than
// MaxSetsLimit.
const (
	DefaultCallsLimit = 100
	DefaultSetsLimit  = 50
	MaxSetsLimit      = 500
)

// sqlstateForeignKeyViolation is PostgreSQL's SQLSTATE for a reference to
// a missing row: here, a key or set for a tenant that does not exist.
const sqlstateForeignKeyViolation = "23503"

// sqlstate returns the SQLSTATE of a PostgreSQL error, or "".
func sqlstate(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// controlTime is t as a timestamptz column stores it: UTC, whole
// microseconds. It is put back into the caller's struct, so what a caller
// holds after a write equals what a later read returns.
func controlTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// optionalTime maps the domain's zero time ("never") to NULL.
func optionalTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return controlTime(t)
}

// fromOptionalTime maps a scanned nullable timestamp to the domain's value.
func fromOptionalTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// params collects the arguments of a query built from optional conditions
// and hands out their $n placeholders. Only fixed SQL fragments go into
// conds; every value goes through add.
type params struct {
	conds []string
	args  []any
}

// arg appends v and returns its placeholder.
func (p *params) arg(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// where renders the conditions as a WHERE clause, or "" when there is none.
func (p *params) where() string {
	if len(p.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(p.conds, " AND ")
}

// ---- tenants

// CreateTenant registers t. The slug must be valid; the name defaults to the
// slug and the creation time to now. A taken slug is already_exists.
func (c *Control) CreateTenant(ctx context.Context, t *capability.Tenant) error {
	if err := storecore.ValidateSlug(t.Slug); err != nil {
		return err
	}
	if t.Name == "" {
		t.Name = t.Slug
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = c.now()
	}
	t.CreatedAt = controlTime(t.CreatedAt)
	tag, err := c.pool.Exec(ctx, `INSERT INTO capd_control.tenants (slug, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (slug) DO NOTHING`, t.Slug, t.Name, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Slug, err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists, "tenant %s already exists", t.Slug)
	}
	return nil
}

// FindTenant returns the tenant with slug, or ErrNotFound.
func (c *Control) FindTenant(ctx context.Context, slug string) (*capability.Tenant, error) {
	row := c.pool.QueryRow(ctx, "SELECT slug, name, created_at FROM capd_control.tenants WHERE slug = $1", slug)
	t, err := scanTenant(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("tenant %s: %w", storecore.Quote(slug), capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find tenant %s: %w", storecore.Quote(slug), err)
	}
	return t, nil
}

// ListTenants returns every tenant ordered by slug.
func (c *Control) ListTenants(ctx context.Context) ([]*capability.Tenant, error) {
	rows, err := c.pool.Query(ctx, "SELECT slug, name, created_at FROM capd_control.tenants ORDER BY slug")
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out, err := collect(rows, scanTenant)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// unknownTenant is the not_found error for a key or set operation on a
// tenant that does not exist; it names the tenant so a typo is obvious.
func unknownTenant(slug string) error {
	return capability.Errorf(capability.CodeNotFound, "tenant %s does not exist", storecore.Quote(slug))
}

// scanTenant reads one (slug, name, created_at) row.
func scanTenant(row pgx.Row) (*capability.Tenant, error) {
	var t capability.Tenant
	if err := row.Scan(&t.Slug, &t.Name, &t.CreatedAt); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// collect reads every row of rows with scan and closes rows; no rows is nil,
// as the SQLite store returns.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- API keys

// CreateKey stores a new key for tenant with scopes and an optional expiry
// (zero: never) and returns its token. Only the token's hash is stored, so
// this is the one time the token can be shown.
func (c *Control) CreateKey(ctx context.Context, tenant string, scopes []capability.Scope, expiresAt time.Time) (string, *capability.APIKey, error) {
	scopes, err := storecore.NormalizeScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	now := controlTime(c.now())
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return "", nil, capability.InvalidInput("the expiry time is in the past; give a future time, or none for a key that does not expire",
			capability.Issue{Path: "/expires_at", Message: "must be in the future"})
	}
	key := &capability.APIKey{Tenant: tenant, Scopes: scopes, CreatedAt: now}
	if !expiresAt.IsZero() {
		key.ExpiresAt = controlTime(expiresAt)
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	for range storecore.MaxKeyTries {
		prefix, token := storecore.NewToken()
		key.Prefix = prefix
		// ON CONFLICT instead of catching the duplicate: a prefix collision
		// then needs no savepoint and cannot abort a surrounding
		// transaction.
		tag, err := c.pool.Exec(ctx, `INSERT INTO capd_control.api_keys (prefix, tenant, secret_hash, scopes, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (prefix) DO NOTHING`,
			key.Prefix, tenant, storecore.HashToken(token), names, now, optionalTime(key.ExpiresAt))
		if sqlstate(err) == sqlstateForeignKeyViolation {
			return "", nil, fmt.Errorf("create key: %w", unknownTenant(tenant))
		}
		if err != nil {
			return "", nil, fmt.Errorf("create key: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return token, key, nil
		}
	}
	return "", nil, errors.New("create key: could not find a free key prefix")
}

// keyColumns are the columns scanKey reads, in order.
const keyColumns = "prefix, tenant, scopes, created_at, expires_at, revoked_at, last_used_at, pins"

// ListKeys returns the keys of tenant, oldest first; not_found if the tenant
// does not exist.
func (c *Control) ListKeys(ctx context.Context, tenant string) ([]*capability.APIKey, error) {
	// One statement, so the tenant check and the list see one snapshot: the
	// tenant row comes back (with NULL key columns) even without keys.
	rows, err := c.pool.Query(ctx, `SELECT k.prefix, t.slug, k.scopes, k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.pins
		FROM capd_control.tenants t LEFT JOIN capd_control.api_keys k ON k.tenant = t.slug
		WHERE t.slug = $1 ORDER BY k.created_at, k.prefix`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	found := false
	out, err := collect(rows, func(row pgx.Row) (*capability.APIKey, error) {
		found = true
		var prefix *string
		k, err := scanKeyInto(row, &prefix)
		if err != nil || prefix == nil {
			return nil, err
		}
		k.Prefix = *prefix
		return k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("list keys: %w", unknownTenant(tenant))
	}
	// The tenant row without keys scans as nil.
	out = slices.DeleteFunc(out, func(k *capability.APIKey) bool { return k == nil })
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// RevokeKey marks a key revoked; Authenticate rejects it from the next
// request on, on every node. It accepts the bare prefix, the displayed
// "capd_<prefix>" or a whole token. Revoking twice keeps the first time.
func (c *Control) RevokeKey(ctx context.Context, prefix string) error {
	prefix = strings.TrimPrefix(prefix, storecore.TokenMarker)
	prefix, _, _ = strings.Cut(prefix, "_")
	tag, err := c.pool.Exec(ctx,
		"UPDATE capd_control.api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE prefix = $2",
		controlTime(c.now()), prefix)
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", storecore.Quote(prefix), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("API key %s: %w", storecore.Quote(storecore.DisplayKey(prefix)), capability.ErrNotFound)
	}
	return nil
}

// Authenticate returns the principal of a live token. It reads the control
// schema on every call, without a cache, so revocation is immediate on
// every node.
//
// A token is checked against its stored hash before anything about the key
// is revealed: without the secret, every failure reads "invalid API key".
// Only the holder of the real token learns that it was revoked or expired,
// and what to do about it.
func (c *Control) Authenticate(ctx context.Context, token string) (capability.Principal, error) {
	if token == "" {
		return capability.Principal{}, unauthenticated("no API key given; send a capd_ API key")
	}
	prefix, ok := storecore.ParseToken(token)
	if !ok {
		return capability.Principal{}, unauthenticated(storecore.InvalidToken)
	}
	sum := storecore.HashToken(token)

	var (
		tenant           string
		hash             []byte
		scopes           []string
		expires, revoked *time.Time
		pins             map[string]string
	)
	err := c.pool.QueryRow(ctx,
		"SELECT tenant, secret_hash, scopes, expires_at, revoked_at, pins FROM capd_control.api_keys WHERE prefix = $1", prefix).
		Scan(&tenant, &hash, &scopes, &expires, &revoked, &pins)
	if errors.Is(err, pgx.ErrNoRows) {
		return capability.Principal{}, unauthenticated(storecore.InvalidToken)
	}
	if err != nil {
		return capability.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(hash, sum) != 1 {
		return capability.Principal{}, unauthenticated(storecore.InvalidToken)
	}
	if revoked != nil {
		return capability.Principal{}, unauthenticated(fmt.Sprintf(
			"API key %s was revoked; create a new one with capd keys create", storecore.DisplayKey(prefix)))
	}
	expiresAt := fromOptionalTime(expires)
	if !expiresAt.IsZero() && !c.now().Before(expiresAt) {
		return capability.Principal{}, unauthenticated(fmt.Sprintf(
			"API key %s expired at %s; create a new one with capd keys create", storecore.DisplayKey(prefix), expiresAt.Format(time.RFC3339)))
	}
	return capability.Principal{
		Tenant:    tenant,
		KeyPrefix: prefix,
		Scopes:    toScopes(scopes),
		ExpiresAt: expiresAt,
		Pins:      nilIfEmpty(pins),
	}, nil
}

// PinKey sets the versions a key's bare capability names resolve to
// (name -> exact version), replacing earlier pins; nil clears them. The
// caller checks that each pin names a published version.
func (c *Control) PinKey(ctx context.Context, prefix string, pins map[string]string) error {
	for name, version := range pins {
		// The same rule as the SQLite store, whose text form cannot hold
		// these characters, so pins move between the engines.
		if strings.ContainsAny(name+version, ",@") || name == "" || version == "" {
			return &capability.Error{Code: capability.CodeInvalidInput, Message: fmt.Sprintf("pin %s@%s is not name@version", name, version)}
		}
	}
	if pins == nil {
		pins = map[string]string{}
	}
	encoded, err := json.Marshal(pins)
	if err != nil {
		return fmt.Errorf("pin key: %w", err)
	}
	tag, err := c.pool.Exec(ctx, "UPDATE capd_control.api_keys SET pins = $1 WHERE prefix = $2", string(encoded), prefix)
	if err != nil {
		return fmt.Errorf("pin key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pin key %s: %w", storecore.DisplayKey(prefix), capability.ErrNotFound)
	}
	return nil
}

// nilIfEmpty returns pins, or nil when there are none, as the SQLite store
// does.
func nilIfEmpty(pins map[string]string) map[string]string {
	if len(pins) == 0 {
		return nil
	}
	return pins
}

// unauthenticated returns an unauthenticated error with message.
func unauthenticated(message string) error {
	return &capability.Error{Code: capability.CodeUnauthenticated, Message: message}
}

// toScopes converts the stored scope names. A scope this binary does not
// know (written by a newer capd) is kept: it grants nothing here, since
// every check names a known scope.
func toScopes(names []string) []capability.Scope {
	var out []capability.Scope
	for _, n := range names {
		if n != "" {
			out = append(out, capability.Scope(n))
		}
	}
	return out
}

// scanKeyInto reads one row of keyColumns (without the hash), the prefix
// into *prefix so a LEFT JOIN's NULL key can be told apart; it returns nil
// for such a row.
func scanKeyInto(row pgx.Row, prefix **string) (*capability.APIKey, error) {
	var (
		k                      capability.APIKey
		tenant                 string
		scopes                 []string
		created                *time.Time
		expires, revoked, used *time.Time
		pins                   map[string]string
	)
	if err := row.Scan(prefix, &tenant, &scopes, &created, &expires, &revoked, &used, &pins); err != nil {
		return nil, err
	}
	if *prefix == nil {
		return nil, nil
	}
	k.Tenant = tenant
	k.Scopes = toScopes(scopes)
	k.Pins = nilIfEmpty(pins)
	k.CreatedAt = fromOptionalTime(created)
	k.ExpiresAt = fromOptionalTime(expires)
	k.RevokedAt = fromOptionalTime(revoked)
	k.LastUsed = fromOptionalTime(used)
	return &k, nil
}

// ---- the call log

// RecordCalls appends a batch to the call log in one transaction, and moves
// each key's last-used time forward to its newest call in the batch.
// Deriving last use from the batched log keeps Authenticate a pure read.
func (c *Control) RecordCalls(ctx context.Context, calls []capability.CallRecord) error {
	if len(calls) == 0 {
		return nil
	}
	lastUsed := make(map[string]time.Time)
	for _, r := range calls {
		if r.KeyPrefix != "" && r.At.After(lastUsed[r.KeyPrefix]) {
			lastUsed[r.KeyPrefix] = r.At
		}
	}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{ControlSchema, "calls"},
			[]string{"at", "tenant", "key_prefix", "capability", "outcome", "duration_us", "replayed"},
			pgx.CopyFromSlice(len(calls), func(i int) ([]any, error) {
				r := calls[i]
				return []any{controlTime(r.At), r.Tenant, r.KeyPrefix, r.Capability, r.Outcome, r.Duration.Microseconds(), r.Replayed}, nil
			}))
		if err != nil {
			return err
		}
		// Keys in a fixed order: two nodes flushing batches that share
		// keys then lock the rows in the same order and cannot deadlock.
		prefixes := make([]string, 0, len(lastUsed))
		for p := range lastUsed {
			prefixes = append(prefixes, p)
		}
		if len(prefixes) == 0 {
			return nil
		}
		slices.Sort(prefixes)
		batch := &pgx.Batch{}
		for _, p := range prefixes {
			batch.Queue(`UPDATE capd_control.api_keys SET last_used_at = $1
				WHERE prefix = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, controlTime(lastUsed[p]), p)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("record %d calls: %w", len(calls), err)
	}
	return nil
}

// ListCalls returns up to limit calls of tenant at or after since, newest
// first. An empty tenant lists every tenant's calls; a zero since lists from
// the beginning; limit <= 0 means DefaultCallsLimit.
func (c *Control) ListCalls(ctx context.Context, tenant string, since time.Time, limit int) ([]capability.CallRecord, error) {
	if limit <= 0 {
		limit = DefaultCallsLimit
	}
	var p params
	if tenant != "" {
		p.conds = append(p.conds, "tenant = "+p.arg(tenant))
	}
	if !since.IsZero() {
		p.conds = append(p.conds, "at >= "+p.arg(controlTime(since)))
	}
	query := "SELECT at, tenant, key_prefix, capability, outcome, duration_us, replayed FROM capd_control.calls" +
		p.where() + " ORDER BY at DESC, id DESC LIMIT " + p.arg(limit)
	rows, err := c.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	out, err := collect(rows, func(row pgx.Row) (capability.CallRecord, error) {
		var r capability.CallRecord
		var us int64
		if err := row.Scan(&r.At, &r.Tenant, &r.KeyPrefix, &r.Capability, &r.Outcome, &us, &r.Replayed); err != nil {
			return r, err
		}
		r.At = r.At.UTC()
		r.Duration = time.Duration(us) * time.Microsecond
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}

// ---- conformance results

// RecordConformance stores a run's results in one transaction, so a run is
// either fully recorded or not at all.
func (c *Control) RecordConformance(ctx context.Context, results []capability.ConformanceResult) error {
	if len(results) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{ControlSchema, "conformance_results"},
			[]string{"run_id", "provider", "capability", "version", "case_id", "kind", "outcome", "duration_us", "started_at", "message"},
			pgx.CopyFromSlice(len(results), func(i int) ([]any, error) {
				r := results[i]
				return []any{r.RunID, r.Provider, r.Capability, r.Version, r.CaseID, r.Kind,
					r.Outcome, r.Duration.Microseconds(), controlTime(r.StartedAt), r.Message}, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("record %d conformance results: %w", len(results), err)
	}
	return nil
}

// conformanceColumns are the columns scanConformance reads, in order.
const conformanceColumns = "run_id, provider, capability, version, case_id, kind, outcome, duration_us, started_at, message"

// conformanceParams turns f's non-empty fields into conditions.
func conformanceParams(f capability.ConformanceFilter) *params {
	var p params
	for _, c := range [...]struct{ col, val string }{
		{"run_id", f.RunID}, {"provider", f.Provider}, {"capability", f.Capability}, {"version", f.Version}, {"outcome", f.Outcome},
	} {
		if c.val != "" {
			p.conds = append(p.conds, c.col+" = "+p.arg(c.val))
		}
	}
	return &p
}

// ListConformance returns recorded results matching f, newest first.
func (c *Control) ListConformance(ctx context.Context, f capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultCallsLimit
	}
	p := conformanceParams(f)
	query := "SELECT " + conformanceColumns + " FROM capd_control.conformance_results" + p.where() +
		" ORDER BY started_at DESC, id DESC LIMIT " + p.arg(limit) + " OFFSET " + p.arg(max(f.Offset, 0))
	rows, err := c.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("list conformance results: %w", err)
	}
	out, err := collect(rows, scanConformance)
	if err != nil {
		return nil, fmt.Errorf("list conformance results: %w", err)
	}
	return out, nil
}

// LatestConformance returns the newest result of each (provider,
// capability, version, case), ordered by provider, capability, version and
// case. RunID, Outcome, Limit and Offset of f are ignored.
func (c *Control) LatestConformance(ctx context.Context, f capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	p := conformanceParams(capability.ConformanceFilter{Provider: f.Provider, Capability: f.Capability, Version: f.Version})
	// DISTINCT ON keeps the first row of each case in this order, the
	// newest; conformance_results_case serves it.
	query := "SELECT DISTINCT ON (provider, capability, version, case_id) " + conformanceColumns +
		" FROM capd_control.conformance_results" + p.where() +
		" ORDER BY provider, capability, version, case_id, started_at DESC, id DESC"
	rows, err := c.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("latest conformance results: %w", err)
	}
	out, err := collect(rows, scanConformance)
	if err != nil {
		return nil, fmt.Errorf("latest conformance results: %w", err)
	}
	return out, nil
}

// scanConformance reads one row of conformanceColumns.
func scanConformance(row pgx.Row) (capability.ConformanceResult, error) {
	var r capability.ConformanceResult
	var us int64
	if err := row.Scan(&r.RunID, &r.Provider, &r.Capability, &r.Version, &r.CaseID, &r.Kind, &r.Outcome, &us, &r.StartedAt, &r.Message); err != nil {
		return r, err
	}
	r.Duration = time.Duration(us) * time.Microsecond
	r.StartedAt = r.StartedAt.UTC()
	return r, nil
}

// ---- capability sets

// setColumns are the columns scanSet reads, in order.
const setColumns = "owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at"

// encodeSetLists returns s's members and tags as JSON arrays. Nil lists
// are stored, and set on s, as empty ones, which is what a read returns.
func encodeSetLists(s *capability.CapabilitySet) (members, tags string, err error) {
	if s.Members == nil {
		s.Members = []capability.SetMember{}
	}
	if s.Tags == nil {
		s.Tags = []string{}
	}
	m, err := json.Marshal(s.Members)
	if err != nil {
		return "", "", fmt.Errorf("encode members: %w", err)
	}
	t, err := json.Marshal(s.Tags)
	if err != nil {
		return "", "", fmt.Errorf("encode tags: %w", err)
	}
	return string(m), string(t), nil
}

// CreateSet stores s. The name must be valid and the owner an existing
// tenant (not_found otherwise); a name the owner already uses is
// already_exists. Zero CreatedAt is set from the clock and zero UpdatedAt
// to CreatedAt.
func (c *Control) CreateSet(ctx context.Context, s *capability.CapabilitySet) error {
	if err := storecore.ValidateSetName(s.Name); err != nil {
		return err
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = c.now()
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = s.CreatedAt
	}
	s.CreatedAt, s.UpdatedAt = controlTime(s.CreatedAt), controlTime(s.UpdatedAt)
	members, tags, err := encodeSetLists(s)
	if err != nil {
		return fmt.Errorf("create set %s/%s: %w", s.Owner, s.Name, err)
	}
	tag, err := c.pool.Exec(ctx, "INSERT INTO capd_control.capability_sets ("+setColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (owner, name) DO NOTHING`,
		s.Owner, s.Name, s.Description, s.IsPublic, members, s.Source, tags, s.CreatedBy, s.CreatedAt, s.UpdatedAt)
	if sqlstate(err) == sqlstateForeignKeyViolation {
		return fmt.Errorf("create set %s/%s: %w", s.Owner, s.Name, unknownTenant(s.Owner))
	}
	if err != nil {
		return fmt.Errorf("create set %s/%s: %w", s.Owner, s.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists,
			"tenant %s already has a set named %s; choose another name or update that set", s.Owner, s.Name)
	}
	return nil
}

// FindSet returns owner's set name, or ErrNotFound. Another owner's set is
// not found here even when it is public; FindPublicSets reads those.
func (c *Control) FindSet(ctx context.Context, owner, name string) (*capability.CapabilitySet, error) {
	row := c.pool.QueryRow(ctx, "SELECT "+setColumns+" FROM capd_control.capability_sets WHERE owner = $1 AND name = $2", owner, name)
	s, err := scanSet(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("set %s of tenant %s: %w", storecore.Quote(name), storecore.Quote(owner), capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find set %s of tenant %s: %w", storecore.Quote(name), storecore.Quote(owner), err)
	}
	return s, nil
}

// FindPublicSets returns every public set named name, ordered by owner;
// none is an empty result, not an error.
func (c *Control) FindPublicSets(ctx context.Context, name string) ([]*capability.CapabilitySet, error) {
	rows, err := c.pool.Query(ctx,
		"SELECT "+setColumns+" FROM capd_control.capability_sets WHERE is_public AND name = $1 ORDER BY owner", name)
	if err != nil {
		return nil, fmt.Errorf("find public sets %s: %w", storecore.Quote(name), err)
	}
	out, err := collect(rows, scanSet)
	if err != nil {
		return nil, fmt.Errorf("find public sets %s: %w", storecore.Quote(name), err)
	}
	return out, nil
}

// ListSets returns f.Owner's sets and, with f.WithPublic, other owners'
// public sets, ordered by name then owner. f.Tag keeps sets carrying that
// tag exactly (JSON containment, so "go" does not match "golang"). The
// limit defaults to DefaultSetsLimit and is capped at MaxSetsLimit.
//
// The two halves are a UNION ALL rather than "owner = $1 OR is_public", so
// each half can read its own index (the primary key, capability_sets_public)
// in (name, owner) order.
func (c *Control) ListSets(ctx context.Context, f capability.SetFilter) ([]*capability.CapabilitySet, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultSetsLimit
	}
	limit = min(limit, MaxSetsLimit)
	var p params
	withTag := func(conds ...string) string {
		if f.Tag != "" {
			conds = append(conds, "tags @> jsonb_build_array("+p.arg(f.Tag)+"::text)")
		}
		return " WHERE " + strings.Join(conds, " AND ")
	}
	query := "SELECT " + setColumns + " FROM capd_control.capability_sets" + withTag("owner = "+p.arg(f.Owner))
	if f.WithPublic {
		query += " UNION ALL SELECT " + setColumns + " FROM capd_control.capability_sets" +
			withTag("is_public", "owner <> "+p.arg(f.Owner))
	}
	query += " ORDER BY name, owner LIMIT " + p.arg(limit) + " OFFSET " + p.arg(max(f.Offset, 0))
	rows, err := c.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("list sets of tenant %s: %w", storecore.Quote(f.Owner), err)
	}
	out, err := collect(rows, scanSet)
	if err != nil {
		return nil, fmt.Errorf("list sets of tenant %s: %w", storecore.Quote(f.Owner), err)
	}
	return out, nil
}

// UpdateSet replaces the description, visibility, members, source, tags
// and update time of s.Owner's set s.Name, or returns ErrNotFound. A zero
// UpdatedAt is set from the clock. CreatedAt and CreatedBy are set on s
// from the stored row, so s afterwards reads like FindSet's result.
func (c *Control) UpdateSet(ctx context.Context, s *capability.CapabilitySet) error {
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = c.now()
	}
	s.UpdatedAt = controlTime(s.UpdatedAt)
	members, tags, err := encodeSetLists(s)
	if err != nil {
		return fmt.Errorf("update set %s/%s: %w", s.Owner, s.Name, err)
	}
	err = c.pool.QueryRow(ctx, `UPDATE capd_control.capability_sets
		SET description = $1, is_public = $2, members = $3, source = $4, tags = $5, updated_at = $6
		WHERE owner = $7 AND name = $8 RETURNING created_by, created_at`,
		s.Description, s.IsPublic, members, s.Source, tags, s.UpdatedAt, s.Owner, s.Name).
		Scan(&s.CreatedBy, &s.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("set %s of tenant %s: %w", storecore.Quote(s.Name), storecore.Quote(s.Owner), capability.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("update set %s/%s: %w", s.Owner, s.Name, err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return nil
}

// DeleteSet removes owner's set name, or returns ErrNotFound.
func (c *Control) DeleteSet(ctx context.Context, owner, name string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM capd_control.capability_sets WHERE owner = $1 AND name = $2", owner, name)
	if err != nil {
		return fmt.Errorf("delete set %s/%s: %w", owner, name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set %s of tenant %s: %w", storecore.Quote(name), storecore.Quote(owner), capability.ErrNotFound)
	}
	return nil
}

// scanSet reads one row of setColumns.
func scanSet(row pgx.Row) (*capability.CapabilitySet, error) {
	var set capability.CapabilitySet
	var members, tags []byte
	if err := row.Scan(&set.Owner, &set.Name, &set.Description, &set.IsPublic, &members, &set.Source, &tags,
		&set.CreatedBy, &set.CreatedAt, &set.UpdatedAt); err != nil {
		return nil, err
	}
	// The columns are always arrays, so these yield non-nil slices.
	if err := json.Unmarshal(members, &set.Members); err != nil {
		return nil, fmt.Errorf("stored members: %w", err)
	}
	if err := json.Unmarshal(tags, &set.Tags); err != nil {
		return nil, fmt.Errorf("stored tags: %w", err)
	}
	set.CreatedAt, set.UpdatedAt = set.CreatedAt.UTC(), set.UpdatedAt.UTC()
	return &set, nil
}
