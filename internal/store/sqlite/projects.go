package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

const projectColumns = "id, name, description, created_at, updated_at"

// CreateProject inserts p, assigning its ID and timestamps when they are
// empty. A name already taken, ignoring ASCII case, is an already_exists
// error naming the existing project, so an agent can use it instead.
func (t *tx) CreateProject(ctx context.Context, p *capability.Project) error {
	existing, err := t.FindProjectByName(ctx, p.Name)
	switch {
	case err == nil:
		return duplicateProject(existing)
	case !errors.Is(err, capability.ErrNotFound):
		return err
	}
	if p.ID == "" {
		p.ID = t.newID(PrefixProject)
	}
	t.stamp(&p.CreatedAt, &p.UpdatedAt)
	_, err = t.tx.ExecContext(ctx,
		"INSERT INTO projects ("+projectColumns+") VALUES (?, ?, ?, ?, ?)",
		p.ID, p.Name, p.Description, formatTime(p.CreatedAt), formatTime(p.UpdatedAt))
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "a project with id %s already exists", p.ID)
	}
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	return nil
}

// duplicateProject is the already_exists error for a taken project name.
func duplicateProject(existing *capability.Project) error {
	return &capability.Error{
		Code:    capability.CodeAlreadyExists,
		Message: fmt.Sprintf("a project named %q already exists (id %s); use it, or choose another name", existing.Name, existing.ID),
		Details: map[string]any{"existing_id": existing.ID},
	}
}

// FindProjectByID returns the project with id, or ErrNotFound.
func (t *tx) FindProjectByID(ctx context.Context, id string) (*capability.Project, error) {
	row := t.tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = ?", id)
	p, err := scanProject(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("project %s: %w", id, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find project %s: %w", id, err)
	}
	return p, nil
}

// FindProjectByName returns the project named name, ignoring ASCII case, or
// ErrNotFound.
func (t *tx) FindProjectByName(ctx context.Context, name string) (*capability.Project, error) {
	row := t.tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE name = ? COLLATE NOCASE", name)
	p, err := scanProject(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("project named %q: %w", name, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find project named %q: %w", name, err)
	}
	return p, nil
}

// FindProjects returns one page of projects in id (creation) order; Query
// matches name or description as a case-insensitive substring.
func (t *tx) FindProjects(ctx context.Context, f capability.ProjectFilter) ([]*capability.Project, error) {
	var w where
	if f.Query != "" {
		q := containsPattern(f.Query)
		w.add(`(name LIKE ? ESCAPE '\' OR description LIKE ? ESCAPE '\')`, q, q)
	}
	limit := pageArgs(&w, f.Page)
	rows, err := t.tx.QueryContext(ctx,
		"SELECT "+projectColumns+" FROM projects"+w.String()+" ORDER BY id LIMIT ?",
		append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	defer rows.Close()
	var out []*capability.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("find projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	return out, nil
}

// scanProject reads one row selected with projectColumns.
func scanProject(s scanner) (*capability.Project, error) {
	var p capability.Project
	var created, updated string
	if err := s.Scan(&p.ID, &p.Name, &p.Description, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if p.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if p.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &p, nil
}
