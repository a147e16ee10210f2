package transfer

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/capd-dev/capd/internal/store/postgres"
)

// Verify compares every table the copy moves, per tenant, between the data
// directory src and the PostgreSQL database dst: row counts and checksums
// over the canonical encoding of every row in primary-key order, computed
// independently on each side. It reads a new snapshot of the source.
//
// For each tenant of the source it compares the tenant's row, keys and
// sets in the control schema and every table of its database with its
// schema; then the call log and the conformance results within the
// source's id ranges. Rows the target holds beyond these (other tenants, a
// call logged by PostgreSQL-backed capd afterwards) are not compared.
//
// An error means the comparison could not run; differences are reported
// in the Report, whose OK says whether everything matched.
func Verify(ctx context.Context, src *Source, dst *postgres.DB, jobs int) (*Report, error) {
	r, err := verify(ctx, src, dst, jobs)
	if err != nil {
		return nil, err
	}
	for _, u := range r.Units {
		u.Status = "verified"
	}
	return r, nil
}

// verify is Verify without the units' status.
func verify(ctx context.Context, src *Source, dst *postgres.DB, jobs int) (*Report, error) {
	start := time.Now()
	pool := dst.Pool()
	if err := checkPostgresSchema(ctx, pool, postgres.ControlSchema, ControlTables); err != nil {
		return nil, err
	}
	snap, err := src.beginControl(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = snap.Rollback() }()
	p, err := readPlan(ctx, src, snap)
	if err != nil {
		return nil, err
	}
	r := &Report{Stray: p.stray, Truncated: p.truncated}
	units := make([]*Unit, len(p.tenants))
	err = forEach(ctx, jobs, len(p.tenants), func(ctx context.Context, i int) error {
		u, err := verifyTenant(ctx, src, pool, p, p.tenants[i])
		units[i] = u
		return err
	})
	if err != nil {
		return nil, err
	}
	logs, err := verifyLogs(ctx, snap, pool, p)
	if err != nil {
		return nil, err
	}
	r.Units = append(units, logs)
	for _, u := range r.Units {
		r.Truncated += u.truncated
		for _, t := range u.Tables {
			r.Verified += t.SourceRows
		}
	}
	r.Upgraded = src.Upgraded()
	r.VerifyTime = time.Since(start)
	return r, nil
}

// beginTargetRead starts a read-only transaction on the target in which
// every read sees one snapshot.
func beginTargetRead(ctx context.Context, pool *pgxpool.Pool) (pgx.Tx, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("read the target: %w", err)
	}
	return tx, nil
}

// verifyTenant compares one tenant's control rows and database.
func verifyTenant(ctx context.Context, src *Source, pool *pgxpool.Pool, p *plan, slug string) (*Unit, error) {
	u := &Unit{Name: slug, Tenant: true}
	tx, err := beginTargetRead(ctx, pool)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, t := range ControlTables {
		if t.Owner == "" {
			continue
		}
		s := newDigest()
		kinds := t.kinds()
		for _, row := range p.owned[slug][t.Name] {
			s.add(kinds, row)
		}
		d, err := digestPostgres(ctx, tx, postgres.ControlSchema, t,
			pgx.Identifier{t.Owner}.Sanitize()+" = $1", slug)
		if err != nil {
			return nil, err
		}
		u.add("control."+t.Name, s, d)
	}

	snap, hasDB, err := src.beginTenant(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !hasDB {
		// As in SQLite, the tenant's database (here its schema) is
		// created on its first use.
		u.NoDatabase = true
		return u, nil
	}
	defer snap.close()
	schema := postgres.TenantSchema(slug)
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read the target: %w", err)
	}
	if exists {
		if err := checkPostgresSchema(ctx, tx, schema, TenantTables); err != nil {
			return nil, err
		}
	}
	where := "tenants/" + slug + ".db"
	for _, t := range TenantTables {
		s, err := digestSQLite(ctx, snap.tx, where, t, u)
		if err != nil {
			return nil, err
		}
		d := newDigest()
		if exists {
			if d, err = digestPostgres(ctx, tx, schema, t, ""); err != nil {
				return nil, err
			}
		}
		u.add(t.Name, s, d)
	}
	return u, nil
}

// verifyLogs compares the call log and the conformance results within the
// source's id ranges.
func verifyLogs(ctx context.Context, snap *sql.Tx, pool *pgxpool.Pool, p *plan) (*Unit, error) {
	u := &Unit{Name: "control"}
	tx, err := beginTargetRead(ctx, pool)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, lr := range p.logs {
		s, err := digestSQLite(ctx, snap, "control.db", lr.table, u)
		if err != nil {
			return nil, err
		}
		d := newDigest()
		if lr.num > 0 {
			if d, err = digestPostgres(ctx, tx, postgres.ControlSchema, lr.table, "id BETWEEN $1 AND $2", lr.min, lr.max); err != nil {
				return nil, err
			}
		}
		u.add("control."+lr.table.Name, s, d)
	}
	return u, nil
}

// digestSQLite reads t from q and returns its row count and checksum,
// counting truncated timestamps into u.
func digestSQLite(ctx context.Context, q *sql.Tx, where string, t Table, u *Unit) (*digest, error) {
	rows, err := querySQLite(ctx, q, where, t, "")
	if err != nil {
		return nil, err
	}
	d := newDigest()
	for rows.next() {
		d.add(rows.kinds, rows.canon)
	}
	if err := rows.close(); err != nil {
		return nil, err
	}
	u.truncated += rows.truncated
	return d, nil
}
