package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultArtifactContentType is stored for an artifact whose ContentType is
// empty; the same as the SQLite store's.
const DefaultArtifactContentType = storecore.DefaultArtifactContentType

// artifactManifestColumns are the columns a listing reads: everything but
// the content.
const artifactManifestColumns = "id, run_id, name, content_type, size, sha256, created_at"

// CreateRunArtifact inserts a with its content, assigning its ID and
// creation time when they are empty. Size and SHA256 are the caller's; the
// table rejects a Size that is not len(Content) and a SHA256 that is not 64
// lowercase hex digits. The run must exist; the foreign key rejects anything
// else.
func (t *tx) CreateRunArtifact(ctx context.Context, a *capability.RunArtifact) error {
	if a.ID == "" {
		a.ID = t.newID(storecore.PrefixArtifact)
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
	tag, err := t.tx.Exec(ctx,
		"INSERT INTO task_run_artifacts ("+artifactManifestColumns+", content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
		a.ID, a.RunID, a.Name, a.ContentType, a.Size, a.SHA256, a.CreatedAt, a.Content)
	if err != nil {
		return fmt.Errorf("create run artifact: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists, "an artifact with id %s already exists", a.ID)
	}
	return nil
}

// FindRunArtifacts returns every artifact of the run, oldest first, without
// content. An empty runID matches no run.
func (t *tx) FindRunArtifacts(ctx context.Context, runID string) ([]*capability.RunArtifact, error) {
	rows, err := t.tx.Query(ctx,
		"SELECT "+artifactManifestColumns+" FROM task_run_artifacts WHERE run_id = $1 ORDER BY id", runID)
	if err != nil {
		return nil, fmt.Errorf("find artifacts of run %s: %w", runID, err)
	}
	out, err := scanAll(rows, func(row pgx.Row) (*capability.RunArtifact, error) { return scanArtifact(row, false) })
	if err != nil {
		return nil, fmt.Errorf("find artifacts of run %s: %w", runID, err)
	}
	return out, nil
}

// FindRunArtifactByID returns the artifact with id and its content, or
// ErrNotFound.
func (t *tx) FindRunArtifactByID(ctx context.Context, id string) (*capability.RunArtifact, error) {
	a, err := scanArtifact(t.tx.QueryRow(ctx,
		"SELECT "+artifactManifestColumns+", content FROM task_run_artifacts WHERE id = $1", id), true)
	if err != nil {
		return nil, notFound(err, "run artifact "+id, "find run artifact "+id)
	}
	return a, nil
}

// scanArtifact reads one row selected with artifactManifestColumns,
// followed by content when withContent is set. Content read by id is never
// nil, so an empty artifact is distinguishable from a listing's entry.
func scanArtifact(row pgx.Row, withContent bool) (*capability.RunArtifact, error) {
	var a capability.RunArtifact
	dest := []any{&a.ID, &a.RunID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.CreatedAt}
	if withContent {
		dest = append(dest, &a.Content)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if withContent && a.Content == nil {
		a.Content = []byte{}
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}
