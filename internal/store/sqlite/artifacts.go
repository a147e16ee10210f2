package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultArtifactContentType is stored for an artifact whose ContentType is
// empty: bytes of unknown kind, which a client downloads rather than renders.
const DefaultArtifactContentType = storecore.DefaultArtifactContentType

// artifactManifestColumns are the columns a listing reads: everything but
// the content, which is also the table's last column so that reading these
// never touches the content's overflow pages.
const artifactManifestColumns = "id, run_id, name, content_type, size, sha256, created_at"

// CreateRunArtifact inserts a with its content, assigning its ID and
// creation time when they are empty. Size and SHA256 are the caller's; the
// table rejects a Size that is not len(Content) and a SHA256 that is not 64
// lowercase hex digits. The run must exist; the foreign key rejects anything
// else.
func (t *tx) CreateRunArtifact(ctx context.Context, a *capability.RunArtifact) error {
	if a.ID == "" {
		a.ID = t.newID(PrefixArtifact)
	}
	if a.ContentType == "" {
		a.ContentType = DefaultArtifactContentType
	}
	t.stamp(&a.CreatedAt, nil)
	// A nil slice would bind as NULL; an empty artifact is zero bytes, and
	// reads by id return it as such.
	if a.Content == nil {
		a.Content = []byte{}
	}
	_, err := t.tx.ExecContext(ctx,
		"INSERT INTO task_run_artifacts ("+artifactManifestColumns+", content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.RunID, a.Name, a.ContentType, a.Size, a.SHA256, formatTime(a.CreatedAt), a.Content)
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "an artifact with id %s already exists", a.ID)
	}
	if err != nil {
		return fmt.Errorf("create run artifact: %w", err)
	}
	return nil
}

// FindRunArtifacts returns every artifact of the run, oldest first, without
// content. An empty runID matches no run.
func (t *tx) FindRunArtifacts(ctx context.Context, runID string) ([]*capability.RunArtifact, error) {
	rows, err := t.tx.QueryContext(ctx,
		"SELECT "+artifactManifestColumns+" FROM task_run_artifacts WHERE run_id = ? ORDER BY id", runID)
	if err != nil {
		return nil, fmt.Errorf("find artifacts of run %s: %w", runID, err)
	}
	out, err := scanAll(rows, func(s scanner) (*capability.RunArtifact, error) { return scanArtifact(s, false) })
	if err != nil {
		return nil, fmt.Errorf("find artifacts of run %s: %w", runID, err)
	}
	return out, nil
}

// FindRunArtifactByID returns the artifact with id and its content, or
// ErrNotFound.
func (t *tx) FindRunArtifactByID(ctx context.Context, id string) (*capability.RunArtifact, error) {
	row := t.tx.QueryRowContext(ctx,
		"SELECT "+artifactManifestColumns+", content FROM task_run_artifacts WHERE id = ?", id)
	a, err := scanArtifact(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run artifact %s: %w", id, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find run artifact %s: %w", id, err)
	}
	return a, nil
}

// scanArtifact reads one row selected with artifactManifestColumns,
// followed by content when withContent is set. Content read by id is never
// nil, so an empty artifact is distinguishable from a listing's entry.
func scanArtifact(s scanner, withContent bool) (*capability.RunArtifact, error) {
	var a capability.RunArtifact
	var created string
	dest := []any{&a.ID, &a.RunID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &created}
	if withContent {
		dest = append(dest, &a.Content)
	}
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	if withContent && a.Content == nil {
		a.Content = []byte{}
	}
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &a, nil
}
