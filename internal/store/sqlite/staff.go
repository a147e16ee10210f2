package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

const staffColumns = "id, name, email, role, created_at"

// CreateStaff inserts s, assigning its ID and creation time when they are
// empty.
func (t *tx) CreateStaff(ctx context.Context, s *capability.Staff) error {
	if s.ID == "" {
		s.ID = t.newID(PrefixStaff)
	}
	t.stamp(&s.CreatedAt, nil)
	_, err := t.tx.ExecContext(ctx,
		"INSERT INTO staff ("+staffColumns+") VALUES (?, ?, ?, ?, ?)",
		s.ID, s.Name, s.Email, s.Role, formatTime(s.CreatedAt))
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "a staff member with id %s already exists", s.ID)
	}
	if err != nil {
		return fmt.Errorf("create staff: %w", err)
	}
	return nil
}

// FindStaffByID returns the staff member with id, or ErrNotFound.
func (t *tx) FindStaffByID(ctx context.Context, id string) (*capability.Staff, error) {
	row := t.tx.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ?", id)
	s, err := scanStaff(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("staff %s: %w", id, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find staff %s: %w", id, err)
	}
	return s, nil
}

// FindStaff returns one page of staff in id (creation) order; Query matches
// name, email or role as a case-insensitive substring.
func (t *tx) FindStaff(ctx context.Context, f capability.StaffFilter) ([]*capability.Staff, error) {
	var w where
	if f.Query != "" {
		q := containsPattern(f.Query)
		w.add(`(name LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR role LIKE ? ESCAPE '\')`, q, q, q)
	}
	limit := pageArgs(&w, f.Page)
	rows, err := t.tx.QueryContext(ctx,
		"SELECT "+staffColumns+" FROM staff"+w.String()+" ORDER BY id LIMIT ?",
		append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	defer rows.Close()
	var out []*capability.Staff
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("find staff: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	return out, nil
}

// scanStaff reads one row selected with staffColumns.
func scanStaff(sc scanner) (*capability.Staff, error) {
	var s capability.Staff
	var created string
	if err := sc.Scan(&s.ID, &s.Name, &s.Email, &s.Role, &created); err != nil {
		return nil, err
	}
	var err error
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &s, nil
}
