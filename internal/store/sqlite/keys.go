package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// CreateKey stores a new key for tenant with scopes and an optional expiry
// (zero: never) and returns its token. Only the token's hash is stored, so
// this is the one time the token can be shown.
func (c *Control) CreateKey(ctx context.Context, tenant string, scopes []capability.Scope, expiresAt time.Time) (string, *capability.APIKey, error) {
	scopes, err := storecore.NormalizeScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	now := c.now().UTC()
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return "", nil, capability.InvalidInput("the expiry time is in the past; give a future time, or none for a key that does not expire",
			capability.Issue{Path: "/expires_at", Message: "must be in the future"})
	}
	key := &capability.APIKey{Tenant: tenant, Scopes: scopes, CreatedAt: now}
	if !expiresAt.IsZero() {
		key.ExpiresAt = expiresAt.UTC()
	}
	var token string
	err = c.db.update(ctx, func(tx *sql.Tx) error {
		if err := tenantExists(ctx, tx, tenant); err != nil {
			return err
		}
		for range storecore.MaxKeyTries {
			key.Prefix, token = storecore.NewToken()
			_, err := tx.ExecContext(ctx,
				"INSERT INTO api_keys (prefix, tenant, secret_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
				key.Prefix, tenant, storecore.HashToken(token), capability.JoinScopes(scopes), formatTime(now), formatNullTime(key.ExpiresAt))
			if !isUniqueViolation(err) {
				return err
			}
		}
		return errors.New("could not find a free key prefix")
	})
	if err != nil {
		return "", nil, fmt.Errorf("create key: %w", err)
	}
	return token, key, nil
}

// tenantExists returns a not_found error naming tenant unless it exists.
func tenantExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tenant string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM tenants WHERE slug = ?", tenant).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return unknownTenant(tenant)
	}
	return err
}

// ListKeys returns the keys of tenant, oldest first; not_found if the tenant
// does not exist.
func (c *Control) ListKeys(ctx context.Context, tenant string) ([]*capability.APIKey, error) {
	var out []*capability.APIKey
	err := c.db.view(ctx, func(tx *sql.Tx) error {
		if err := tenantExists(ctx, tx, tenant); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx,
			`SELECT prefix, tenant, scopes, created_at, expires_at, revoked_at, last_used_at, pins
			 FROM api_keys WHERE tenant = ? ORDER BY created_at, prefix`, tenant)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// RevokeKey marks a key revoked; Authenticate rejects it from the next
// request on, in every process. It accepts the bare prefix, the displayed
// "capd_<prefix>" or a whole token. Revoking twice keeps the first time.
func (c *Control) RevokeKey(ctx context.Context, prefix string) error {
	prefix = strings.TrimPrefix(prefix, storecore.TokenMarker)
	prefix, _, _ = strings.Cut(prefix, "_")
	var n int64
	err := c.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE prefix = ?",
			formatTime(c.now()), prefix)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", storecore.Quote(prefix), err)
	}
	if n == 0 {
		return fmt.Errorf("API key %s: %w", storecore.Quote(storecore.DisplayKey(prefix)), capability.ErrNotFound)
	}
	return nil
}

// Authenticate returns the principal of a live token. It reads the control
// database on every call, without a cache, so revocation is immediate.
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
		tenant, scopes, pins string
		hash                 []byte
		expires, revoked     sql.NullString
	)
	err := c.db.reader.QueryRowContext(ctx,
		"SELECT tenant, secret_hash, scopes, expires_at, revoked_at, pins FROM api_keys WHERE prefix = ?", prefix).
		Scan(&tenant, &hash, &scopes, &expires, &revoked, &pins)
	if errors.Is(err, sql.ErrNoRows) {
		return capability.Principal{}, unauthenticated(storecore.InvalidToken)
	}
	if err != nil {
		return capability.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(hash, sum) != 1 {
		return capability.Principal{}, unauthenticated(storecore.InvalidToken)
	}
	if revoked.Valid {
		return capability.Principal{}, unauthenticated(fmt.Sprintf(
			"API key %s was revoked; create a new one with capd keys create", storecore.DisplayKey(prefix)))
	}
	expiresAt, err := parseNullTime(expires)
	if err != nil {
		return capability.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if !expiresAt.IsZero() && !c.now().Before(expiresAt) {
		return capability.Principal{}, unauthenticated(fmt.Sprintf(
			"API key %s expired at %s; create a new one with capd keys create", storecore.DisplayKey(prefix), expiresAt.Format(time.RFC3339)))
	}
	return capability.Principal{
		Tenant:    tenant,
		KeyPrefix: prefix,
		Scopes:    splitScopes(scopes),
		ExpiresAt: expiresAt,
		Pins:      splitPins(pins),
	}, nil
}

// PinKey sets the versions a key's bare capability names resolve to
// (name -> exact version), replacing earlier pins; nil clears them. The
// caller checks that each pin names a published version.
func (c *Control) PinKey(ctx context.Context, prefix string, pins map[string]string) error {
	refs := make([]string, 0, len(pins))
	for name, version := range pins {
		if strings.ContainsAny(name+version, ",@") || name == "" || version == "" {
			return &capability.Error{Code: capability.CodeInvalidInput, Message: fmt.Sprintf("pin %s@%s is not name@version", name, version)}
		}
		refs = append(refs, name+"@"+version)
	}
	slices.Sort(refs)
	res, err := c.db.writer.ExecContext(ctx, "UPDATE api_keys SET pins = ? WHERE prefix = ?", strings.Join(refs, ","), prefix)
	if err != nil {
		return fmt.Errorf("pin key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("pin key %s: %w", storecore.DisplayKey(prefix), capability.ErrNotFound)
	}
	return nil
}

// splitPins decodes the stored pins; nil when there are none.
func splitPins(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for ref := range strings.SplitSeq(s, ",") {
		if name, version, ok := strings.Cut(ref, "@"); ok {
			out[name] = version
		}
	}
	return out
}

// unauthenticated returns an unauthenticated error with message.
func unauthenticated(message string) error {
	return &capability.Error{Code: capability.CodeUnauthenticated, Message: message}
}

// splitScopes decodes the stored comma-separated scope list. A scope this
// binary does not know (written by a newer capd) is kept: it grants nothing
// here, since every check names a known scope.
func splitScopes(s string) []capability.Scope {
	var out []capability.Scope
	for part := range strings.SplitSeq(s, ",") {
		if part != "" {
			out = append(out, capability.Scope(part))
		}
	}
	return out
}

// scanKey reads one api_keys row (without the hash).
func scanKey(s scanner) (*capability.APIKey, error) {
	var k capability.APIKey
	var scopes, created string
	var expires, revoked, used sql.NullString
	var pins string
	if err := s.Scan(&k.Prefix, &k.Tenant, &scopes, &created, &expires, &revoked, &used, &pins); err != nil {
		return nil, err
	}
	k.Scopes = splitScopes(scopes)
	k.Pins = splitPins(pins)
	var err error
	if k.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if k.ExpiresAt, err = parseNullTime(expires); err != nil {
		return nil, err
	}
	if k.RevokedAt, err = parseNullTime(revoked); err != nil {
		return nil, err
	}
	if k.LastUsed, err = parseNullTime(used); err != nil {
		return nil, err
	}
	return &k, nil
}
