package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// Set listing bounds: ListSets returns DefaultSetsLimit sets when the
// filter's limit is zero or below, and never more than MaxSetsLimit.
const (
	DefaultSetsLimit = 50
	MaxSetsLimit     = 500
)

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
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	members, tags, err := encodeSetLists(s)
	if err != nil {
		return fmt.Errorf("create set %s/%s: %w", s.Owner, s.Name, err)
	}
	err = c.db.update(ctx, func(tx *sql.Tx) error {
		if err := tenantExists(ctx, tx, s.Owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO capability_sets ("+setColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			s.Owner, s.Name, s.Description, s.IsPublic, members, s.Source, tags, s.CreatedBy,
			formatTime(s.CreatedAt), formatTime(s.UpdatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists,
			"tenant %s already has a set named %s; choose another name or update that set", s.Owner, s.Name)
	}
	if err != nil {
		return fmt.Errorf("create set %s/%s: %w", s.Owner, s.Name, err)
	}
	return nil
}

// FindSet returns owner's set name, or ErrNotFound. Another owner's set is
// not found here even when it is public; FindPublicSets reads those.
func (c *Control) FindSet(ctx context.Context, owner, name string) (*capability.CapabilitySet, error) {
	row := c.db.reader.QueryRowContext(ctx, "SELECT "+setColumns+" FROM capability_sets WHERE owner = ? AND name = ?", owner, name)
	s, err := scanSet(row)
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := c.db.reader.QueryContext(ctx,
		"SELECT "+setColumns+" FROM capability_sets WHERE is_public = 1 AND name = ? ORDER BY owner", name)
	if err != nil {
		return nil, fmt.Errorf("find public sets %s: %w", storecore.Quote(name), err)
	}
	out, err := scanSets(rows)
	if err != nil {
		return nil, fmt.Errorf("find public sets %s: %w", storecore.Quote(name), err)
	}
	return out, nil
}

// ListSets returns f.Owner's sets and, with f.WithPublic, other owners'
// public sets, ordered by name then owner. f.Tag keeps sets carrying that
// tag exactly (json_each, so "go" does not match "golang", and LIKE's
// wildcards need no escaping). The limit defaults to DefaultSetsLimit and
// is capped at MaxSetsLimit.
//
// The two halves are a UNION ALL rather than "owner = ? OR is_public = 1":
// each half then reads an index already in (name, owner) order, the
// primary key and capability_sets_public, and SQLite merges them and stops
// at the limit instead of scanning every tenant's sets and sorting.
func (c *Control) ListSets(ctx context.Context, f capability.SetFilter) ([]*capability.CapabilitySet, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultSetsLimit
	}
	limit = min(limit, MaxSetsLimit)
	withTag := func(w *where) *where {
		if f.Tag != "" {
			w.add("EXISTS (SELECT 1 FROM json_each(capability_sets.tags) WHERE value = ?)", f.Tag)
		}
		return w
	}
	own := withTag(&where{conds: []string{"owner = ?"}, args: []any{f.Owner}})
	query := "SELECT " + setColumns + " FROM capability_sets" + own.String()
	args := own.args
	if f.WithPublic {
		public := withTag(&where{conds: []string{"is_public = 1", "owner <> ?"}, args: []any{f.Owner}})
		query += " UNION ALL SELECT " + setColumns + " FROM capability_sets" + public.String()
		args = append(args, public.args...)
	}
	rows, err := c.db.reader.QueryContext(ctx, query+" ORDER BY name, owner LIMIT ? OFFSET ?",
		append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("list sets of tenant %s: %w", storecore.Quote(f.Owner), err)
	}
	out, err := scanSets(rows)
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
	s.UpdatedAt = s.UpdatedAt.UTC()
	members, tags, err := encodeSetLists(s)
	if err != nil {
		return fmt.Errorf("update set %s/%s: %w", s.Owner, s.Name, err)
	}
	var created string
	err = c.db.update(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE capability_sets
			SET description = ?, is_public = ?, members = ?, source = ?, tags = ?, updated_at = ?
			WHERE owner = ? AND name = ? RETURNING created_by, created_at`,
			s.Description, s.IsPublic, members, s.Source, tags, formatTime(s.UpdatedAt), s.Owner, s.Name).
			Scan(&s.CreatedBy, &created)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("set %s of tenant %s: %w", storecore.Quote(s.Name), storecore.Quote(s.Owner), capability.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("update set %s/%s: %w", s.Owner, s.Name, err)
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return fmt.Errorf("update set %s/%s: %w", s.Owner, s.Name, err)
	}
	return nil
}

// DeleteSet removes owner's set name, or returns ErrNotFound.
func (c *Control) DeleteSet(ctx context.Context, owner, name string) error {
	var n int64
	err := c.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM capability_sets WHERE owner = ? AND name = ?", owner, name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete set %s/%s: %w", owner, name, err)
	}
	if n == 0 {
		return fmt.Errorf("set %s of tenant %s: %w", storecore.Quote(name), storecore.Quote(owner), capability.ErrNotFound)
	}
	return nil
}

// scanSet reads one row of setColumns.
func scanSet(s scanner) (*capability.CapabilitySet, error) {
	var set capability.CapabilitySet
	var members, tags, created, updated string
	if err := s.Scan(&set.Owner, &set.Name, &set.Description, &set.IsPublic, &members, &set.Source, &tags,
		&set.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	// The columns are always arrays, so these yield non-nil slices.
	if err := json.Unmarshal([]byte(members), &set.Members); err != nil {
		return nil, fmt.Errorf("stored members: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &set.Tags); err != nil {
		return nil, fmt.Errorf("stored tags: %w", err)
	}
	var err error
	if set.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if set.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &set, nil
}

// scanSets reads every row of setColumns and closes rows.
func scanSets(rows *sql.Rows) ([]*capability.CapabilitySet, error) {
	defer rows.Close()
	var out []*capability.CapabilitySet
	for rows.Next() {
		s, err := scanSet(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
