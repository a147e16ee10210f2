package transfer

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/capd-dev/capd/internal/store/postgres"
)

// Options configures Migrate.
type Options struct {
	// Resume continues an earlier Migrate into the same target that
	// stopped part way: tenants (and the call log and conformance
	// results) already in the target are verified against the source and
	// skipped when they match; anything in the way that does not match
	// is refused.
	Resume bool
	// Jobs is how many tenants are copied and verified at once; 0 or less
	// means one at a time.
	Jobs int
	// Progress, when set, receives a line per tenant copied.
	Progress io.Writer
}

// RefusedError is Migrate declining to start because the target holds data
// the copy would collide with. Nothing has been written when it is
// returned.
type RefusedError struct{ Reason string }

// Error returns the reason, which says what is in the way and what to do.
func (e *RefusedError) Error() string { return e.Reason }

// plan is what one snapshot of control.db says there is to move.
type plan struct {
	tenants []string
	// owned holds the rows of the control tables that belong to a tenant
	// (the tenant itself, its keys and sets), by slug and table, as
	// canonical values. They are few, and holding them lets tenants be
	// copied in parallel while the one control snapshot stays in this
	// goroutine.
	owned     map[string]map[string][][]any
	truncated int64
	logs      []logRange
	stray     []string
}

// logRange is a log table of the source: its rows' ids run from min to
// max. The ids move with the rows, so the same range selects them in the
// target, whatever the target's own rows.
type logRange struct {
	table         Table
	min, max, num int64
}

// readPlan reads the control data of snap.
func readPlan(ctx context.Context, src *Source, snap *sql.Tx) (*plan, error) {
	p := &plan{owned: map[string]map[string][][]any{}}
	for _, t := range ControlTables {
		if t.Owner == "" {
			lr := logRange{table: t}
			var lo, hi sql.NullInt64
			if err := snap.QueryRowContext(ctx, "SELECT min(id), max(id), count(*) FROM "+quoteSQLite(t.Name)).Scan(&lo, &hi, &lr.num); err != nil {
				return nil, fmt.Errorf("read control.db %s: %w", t.Name, err)
			}
			lr.min, lr.max = lo.Int64, hi.Int64
			p.logs = append(p.logs, lr)
			continue
		}
		rows, err := querySQLite(ctx, snap, "control.db", t, "")
		if err != nil {
			return nil, err
		}
		ownerCol := slices.Index(t.columns(), t.Owner)
		for rows.next() {
			owner, _ := rows.canon[ownerCol].(string)
			if t.Name == "tenants" {
				p.tenants = append(p.tenants, owner)
				p.owned[owner] = map[string][][]any{}
			} else if p.owned[owner] == nil {
				_ = rows.close()
				return nil, fmt.Errorf("control.db %s row %s belongs to tenant %q, which does not exist; capd migrate moves only data of existing tenants",
					t.Name, rowKey(t, rows.raw), owner)
			}
			p.owned[owner][t.Name] = append(p.owned[owner][t.Name], slices.Clone(rows.canon))
		}
		if err := rows.close(); err != nil {
			return nil, err
		}
		p.truncated += rows.truncated
	}
	// tenants was read in key order: slugs are sorted.
	var err error
	if p.stray, err = src.strayFiles(p.tenants); err != nil {
		return nil, err
	}
	return p, nil
}

// Migrate copies the data directory src into the PostgreSQL database dst
// and then verifies the copy with Verify. See the package documentation
// for what moves, in which transactions, and how values map.
//
// It refuses (a *RefusedError, nothing written) when dst already holds a
// tenant of src or call log or conformance ids that src uses, unless
// opts.Resume is set and that data matches the source. The report says,
// per tenant and table, what was compared; an error is returned only when
// the copy or the verification could not run, so the caller must check
// Report.OK.
func Migrate(ctx context.Context, src *Source, dst *postgres.DB, opts Options) (*Report, error) {
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
	// Every tenant database is opened and its schema checked before
	// anything is written, so a problem with the last one does not leave
	// the first ones copied.
	for _, slug := range p.tenants {
		ts, ok, err := src.beginTenant(ctx, slug)
		if err != nil {
			return nil, err
		}
		if ok {
			ts.close()
		}
	}

	// What is in the way.
	inTarget, err := tenantSlugs(ctx, pool, postgres.ControlSchema)
	if err != nil {
		return nil, err
	}
	var existing []string
	for _, slug := range p.tenants {
		if inTarget[slug] {
			existing = append(existing, slug)
		}
	}
	logsPresent := false
	var logsInTheWay []string
	for _, lr := range p.logs {
		n, err := targetLogRows(ctx, pool, lr)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			logsPresent = true
			logsInTheWay = append(logsInTheWay, fmt.Sprintf("%s has %d rows with ids %d..%d", lr.table.Name, n, lr.min, lr.max))
		}
	}
	if !opts.Resume && (len(existing) > 0 || logsPresent) {
		var why []string
		if len(existing) > 0 {
			why = append(why, fmt.Sprintf("the target already has tenant(s) %s", strings.Join(existing, ", ")))
		}
		if logsPresent {
			why = append(why, "the target's "+strings.Join(logsInTheWay, " and ")+", ids the source's rows keep")
		}
		return nil, &RefusedError{Reason: strings.Join(why, "; ") + ". capd migrate copies into a database that holds none of the source's data. " +
			"If an earlier capd migrate from this source stopped part way, run it again with --resume: what it copied is verified and kept. " +
			"Otherwise use an empty database"}
	}

	// A resumed run keeps only what matches the source exactly.
	resumed := map[string]*Unit{}
	for _, slug := range existing {
		u, err := verifyTenant(ctx, src, pool, p, slug)
		if err != nil {
			return nil, err
		}
		if !u.OK() {
			return nil, &RefusedError{Reason: fmt.Sprintf("tenant %s is already in the target but differs from the source (%s); "+
				"it was changed after an earlier capd migrate, or came from another source. capd migrate leaves it alone: "+
				"remove it from the target, or copy into an empty database", slug, strings.Join(u.mismatches(), ", "))}
		}
		u.Status = "already in the target and verified (resumed)"
		resumed[slug] = u
	}
	var logsResumed *Unit
	if logsPresent {
		u, err := verifyLogs(ctx, snap, pool, p)
		if err != nil {
			return nil, err
		}
		if !u.OK() {
			return nil, &RefusedError{Reason: fmt.Sprintf("the target's call log or conformance results overlap the source's ids but differ (%s); "+
				"capd migrate keeps their ids, so it copies only into a database where they are free", strings.Join(u.mismatches(), ", "))}
		}
		u.Status = "already in the target and verified (resumed)"
		logsResumed = u
	}

	report := &Report{Stray: p.stray}
	start := time.Now()
	var todo []string
	for _, slug := range p.tenants {
		if resumed[slug] == nil {
			todo = append(todo, slug)
		}
	}
	var mu sync.Mutex
	done := len(existing)
	err = forEach(ctx, opts.Jobs, len(todo), func(ctx context.Context, i int) error {
		began := time.Now()
		n, err := copyTenant(ctx, src, dst, p, todo[i])
		if err != nil {
			return fmt.Errorf("copy tenant %s: %w", todo[i], err)
		}
		mu.Lock()
		defer mu.Unlock()
		report.Copied += n
		done++
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "copied tenant %s: %d rows in %s (%d/%d)\n",
				todo[i], n, time.Since(began).Round(time.Millisecond), done, len(p.tenants))
		}
		return nil
	})
	if err != nil {
		return nil, incomplete(err, done)
	}
	if logsResumed == nil {
		n, err := copyLogs(ctx, snap, pool, p)
		if err != nil {
			return nil, incomplete(fmt.Errorf("copy the call log and conformance results: %w", err), done)
		}
		report.Copied += n
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "copied the call log and conformance results: %d rows\n", n)
		}
	}
	report.CopyTime = time.Since(start)
	_ = snap.Rollback()

	// Verify in a new snapshot of the source, after the copy: the report
	// compares the target with the source as it is now, so a source that
	// changed during the copy (capd was running) shows as a mismatch.
	v, err := verify(ctx, src, dst, opts.Jobs)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	for _, u := range v.Units {
		switch {
		case u.Tenant && resumed[u.Name] != nil, !u.Tenant && logsResumed != nil:
			u.Status = "already in the target (resumed); verified"
		default:
			u.Status = "copied; verified"
		}
	}
	v.Stray, v.Copied, v.CopyTime = report.Stray, report.Copied, report.CopyTime
	return v, nil
}

// incomplete adds to a copy error what state the target is in.
func incomplete(err error, done int) error {
	if done == 0 {
		return fmt.Errorf("%w; nothing was committed", err)
	}
	return fmt.Errorf("%w; each tenant commits in one transaction, so the %d tenant(s) committed before this are complete and "+
		"no tenant is half-copied: run the same capd migrate again with --resume to verify them and copy the rest", err, done)
}

// targetLogRows counts the target's rows of a log table in the source's
// id range.
func targetLogRows(ctx context.Context, q pgQuerier, lr logRange) (int64, error) {
	if lr.num == 0 {
		return 0, nil
	}
	var n int64
	err := q.QueryRow(ctx, "SELECT count(*) FROM "+pgTable(postgres.ControlSchema, lr.table)+" WHERE id BETWEEN $1 AND $2", lr.min, lr.max).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read the target's %s: %w", lr.table.Name, err)
	}
	return n, nil
}

// copyTenant copies one tenant in one PostgreSQL transaction: its row,
// keys and sets in the control schema, and every table of its database
// into its schema. The schema is created (empty, migrated) beforehand,
// outside the transaction, because goose migrates on connections of its
// own; until the transaction commits, the control schema does not list the
// tenant, so no capd serves the schema. It returns the rows written.
func copyTenant(ctx context.Context, src *Source, dst *postgres.DB, p *plan, slug string) (int64, error) {
	snap, hasDB, err := src.beginTenant(ctx, slug)
	if err != nil {
		return 0, err
	}
	if hasDB {
		defer snap.close()
	}
	schema := postgres.TenantSchema(slug)
	if hasDB {
		if err := dst.PrepareTenantSchema(ctx, slug); err != nil {
			return 0, err
		}
		if err := checkPostgresSchema(ctx, dst.Pool(), schema, TenantTables); err != nil {
			return 0, err
		}
	}

	var total int64
	err = pgx.BeginFunc(ctx, dst.Pool(), func(tx pgx.Tx) error {
		for _, t := range ControlTables {
			if rows := p.owned[slug][t.Name]; t.Owner != "" && len(rows) > 0 {
				if err := copyCanonical(ctx, tx, postgres.ControlSchema, t, rows); err != nil {
					return err
				}
				total += int64(len(rows))
			}
		}
		if !hasDB {
			return nil
		}
		for _, t := range TenantTables {
			if t.Seeded {
				// The migrations' rows make way for the source's, which
				// are what this tenant had.
				if _, err := tx.Exec(ctx, "DELETE FROM "+pgTable(schema, t)); err != nil {
					return fmt.Errorf("clear %s.%s: %w", schema, t.Name, err)
				}
				continue
			}
			var nonEmpty bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgTable(schema, t)+")").Scan(&nonEmpty); err != nil {
				return fmt.Errorf("read %s.%s: %w", schema, t.Name, err)
			}
			if nonEmpty {
				return fmt.Errorf("schema %s already holds rows in %s although the target has no tenant %s; "+
					"it is not capd migrate's to overwrite: drop the schema if it is a leftover", schema, t.Name, slug)
			}
		}
		restore, err := deferChecks(ctx, tx, schema)
		if err != nil {
			return err
		}
		where := "tenants/" + slug + ".db"
		for _, t := range TenantTables {
			rows, err := querySQLite(ctx, snap.tx, where, t, "")
			if err != nil {
				return err
			}
			n, err := copyRows(ctx, tx, schema, rows)
			if err != nil {
				return err
			}
			total += n
		}
		return restore(ctx)
	})
	return total, err
}

// copyLogs copies the call log and the conformance results, with their
// ids, in one transaction. The tables are locked against other writers
// (a capd already serving other tenants from the target) for the length of
// the copy, and each identity sequence is moved past the copied ids, so
// ids handed out afterwards cannot collide with them.
func copyLogs(ctx context.Context, snap *sql.Tx, pool pgxPool, p *plan) (int64, error) {
	var total int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var names []string
		for _, lr := range p.logs {
			names = append(names, pgTable(postgres.ControlSchema, lr.table))
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		for _, lr := range p.logs {
			if lr.num == 0 {
				continue
			}
			// Checked again under the lock: rows may have arrived since.
			if n, err := targetLogRows(ctx, tx, lr); err != nil || n > 0 {
				if err == nil {
					err = fmt.Errorf("the target's %s gained rows with ids %d..%d during the copy", lr.table.Name, lr.min, lr.max)
				}
				return err
			}
			rows, err := querySQLite(ctx, snap, "control.db", lr.table, "")
			if err != nil {
				return err
			}
			n, err := copyRows(ctx, tx, postgres.ControlSchema, rows)
			if err != nil {
				return err
			}
			total += n
			if err := advanceSequence(ctx, tx, lr); err != nil {
				return err
			}
		}
		return nil
	})
	return total, err
}

// pgxPool is what copyLogs begins its transaction on.
type pgxPool interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// advanceSequence moves the identity sequence of a log table to at least
// the largest copied id: COPY writes the ids it is given and leaves the
// sequence where it was.
func advanceSequence(ctx context.Context, tx pgx.Tx, lr logRange) error {
	var seq string
	if err := tx.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, 'id')", pgTable(postgres.ControlSchema, lr.table)).Scan(&seq); err != nil {
		return fmt.Errorf("find the id sequence of %s: %w", lr.table.Name, err)
	}
	var last int64
	var called bool
	if err := tx.QueryRow(ctx, "SELECT last_value, is_called FROM "+seq).Scan(&last, &called); err != nil {
		return fmt.Errorf("read the id sequence of %s: %w", lr.table.Name, err)
	}
	if called && last >= lr.max {
		return nil
	}
	if _, err := tx.Exec(ctx, "SELECT setval($1::regclass, $2)", seq, lr.max); err != nil {
		return fmt.Errorf("advance the id sequence of %s: %w", lr.table.Name, err)
	}
	return nil
}

// forEach runs fn for 0..n-1, jobs at a time (at least one), and returns
// the first error, after which the calls still running see their context
// cancelled and no new ones start.
func forEach(ctx context.Context, jobs, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err() // the caller's: Wait always cancels gctx
}
