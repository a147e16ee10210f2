package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

var _ capability.ControlStore = (*Control)(nil)

// Control is the control database: tenants, API keys, the call log and
// capability sets. It implements capability.ControlStore.
//
// Reads go to the reader pool and are never cached, so a tenant or key that
// another process (the CLI) creates or revokes takes effect on the next
// request.
type Control struct {
	db  *database
	now func() time.Time
}

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
	t.CreatedAt = t.CreatedAt.UTC()
	err := c.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO tenants (slug, name, created_at) VALUES (?, ?, ?)",
			t.Slug, t.Name, formatTime(t.CreatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "tenant %s already exists", t.Slug)
	}
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Slug, err)
	}
	return nil
}

// FindTenant returns the tenant with slug, or ErrNotFound.
func (c *Control) FindTenant(ctx context.Context, slug string) (*capability.Tenant, error) {
	row := c.db.reader.QueryRowContext(ctx, "SELECT slug, name, created_at FROM tenants WHERE slug = ?", slug)
	t, err := scanTenant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tenant %s: %w", storecore.Quote(slug), capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find tenant %s: %w", storecore.Quote(slug), err)
	}
	return t, nil
}

// ListTenants returns every tenant ordered by slug.
func (c *Control) ListTenants(ctx context.Context) ([]*capability.Tenant, error) {
	rows, err := c.db.reader.QueryContext(ctx, "SELECT slug, name, created_at FROM tenants ORDER BY slug")
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []*capability.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// unknownTenant is the not_found error for a key operation on a tenant that
// does not exist; it names the tenant so a typo is obvious.
func unknownTenant(slug string) error {
	return capability.Errorf(capability.CodeNotFound, "tenant %s does not exist", storecore.Quote(slug))
}

// scanTenant reads one (slug, name, created_at) row.
func scanTenant(s scanner) (*capability.Tenant, error) {
	var t capability.Tenant
	var created string
	if err := s.Scan(&t.Slug, &t.Name, &created); err != nil {
		return nil, err
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &t, nil
}
