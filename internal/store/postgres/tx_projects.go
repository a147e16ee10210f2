package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

const projectColumns = "id, name, description, created_at, updated_at"

// CreateProject inserts p, assigning its ID and timestamps when they are
// empty. A name already taken, ignoring case, is an already_exists error
// naming the existing project, so an agent can use it instead.
func (t *tx) CreateProject(ctx context.Context, p *capability.Project) error {
	existing, err := t.FindProjectByName(ctx, p.Name)
	switch {
	case err == nil:
		return duplicateProject(existing)
	case !errors.Is(err, capability.ErrNotFound):
		return err
	}
	if p.ID == "" {
		p.ID = t.newID(storecore.PrefixProject)
	}
	t.stamp(&p.CreatedAt, &p.UpdatedAt)
	tag, err := t.tx.Exec(ctx,
		"INSERT INTO projects ("+projectColumns+") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
		p.ID, p.Name, p.Description, p.CreatedAt, p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	if tag.RowsAffected() == 0 {
		// Either key: the name check above ran under the tenant's write
		// lock, so the id is the likely one, but say which it was.
		if existing, err := t.FindProjectByName(ctx, p.Name); err == nil {
			return duplicateProject(existing)
		}
		return capability.Errorf(capability.CodeAlreadyExists, "a project with id %s already exists", p.ID)
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
	p, err := scanProject(t.tx.QueryRow(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "project "+id, "find project "+id)
	}
	return p, nil
}

// FindProjectByName returns the project named name, ignoring case, or
// ErrNotFound. lower(name) is the unique index's expression, so this is one
// index probe.
func (t *tx) FindProjectByName(ctx context.Context, name string) (*capability.Project, error) {
	p, err := scanProject(t.tx.QueryRow(ctx,
		"SELECT "+projectColumns+" FROM projects WHERE lower(name) = lower($1)", name))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("project named %q", name), fmt.Sprintf("find project named %q", name))
	}
	return p, nil
}

// FindProjects returns one page of projects in id (creation) order; Query
// matches name or description as a case-insensitive substring.
func (t *tx) FindProjects(ctx context.Context, f capability.ProjectFilter) ([]*capability.Project, error) {
	var w where
	if f.Query != "" {
		q := containsPattern(f.Query)
		w.add(`(name ILIKE ? ESCAPE '\' OR description ILIKE ? ESCAPE '\')`, q, q)
	}
	limit := pageArgs(&w, f.Page)
	rows, err := t.tx.Query(ctx,
		"SELECT "+projectColumns+" FROM projects"+w.String()+" ORDER BY id LIMIT "+w.next(limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	out, err := scanAll(rows, scanProject)
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	return out, nil
}

// scanProject reads one row selected with projectColumns.
func scanProject(row pgx.Row) (*capability.Project, error) {
	var p capability.Project
	if err := row.Scan(&p.ID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

const staffColumns = "id, name, email, role, created_at"

// CreateStaff inserts s, assigning its ID and creation time when they are
// empty.
func (t *tx) CreateStaff(ctx context.Context, s *capability.Staff) error {
	if s.ID == "" {
		s.ID = t.newID(storecore.PrefixStaff)
	}
	t.stamp(&s.CreatedAt, nil)
	tag, err := t.tx.Exec(ctx,
		"INSERT INTO staff ("+staffColumns+") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
		s.ID, s.Name, s.Email, s.Role, s.CreatedAt)
	if err != nil {
		return fmt.Errorf("create staff: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists, "a staff member with id %s already exists", s.ID)
	}
	return nil
}

// FindStaffByID returns the staff member with id, or ErrNotFound.
func (t *tx) FindStaffByID(ctx context.Context, id string) (*capability.Staff, error) {
	s, err := scanStaff(t.tx.QueryRow(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "staff "+id, "find staff "+id)
	}
	return s, nil
}

// FindStaff returns one page of staff in id (creation) order; Query matches
// name, email or role as a case-insensitive substring.
func (t *tx) FindStaff(ctx context.Context, f capability.StaffFilter) ([]*capability.Staff, error) {
	var w where
	if f.Query != "" {
		q := containsPattern(f.Query)
		w.add(`(name ILIKE ? ESCAPE '\' OR email ILIKE ? ESCAPE '\' OR role ILIKE ? ESCAPE '\')`, q, q, q)
	}
	limit := pageArgs(&w, f.Page)
	rows, err := t.tx.Query(ctx,
		"SELECT "+staffColumns+" FROM staff"+w.String()+" ORDER BY id LIMIT "+w.next(limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	out, err := scanAll(rows, scanStaff)
	if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	return out, nil
}

// scanStaff reads one row selected with staffColumns.
func scanStaff(row pgx.Row) (*capability.Staff, error) {
	var s capability.Staff
	if err := row.Scan(&s.ID, &s.Name, &s.Email, &s.Role, &s.CreatedAt); err != nil {
		return nil, err
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return &s, nil
}
