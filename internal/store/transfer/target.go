package transfer

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
)

// pgQuerier is what the target's reads run on: the pool or a transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkPostgresSchema compares the tables and columns of schema with
// tables. goose's version table is the migrations' own bookkeeping, not
// data, and is left out.
func checkPostgresSchema(ctx context.Context, q pgQuerier, schema string, tables []Table) error {
	rows, err := q.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = $1 AND table_name <> $2`, schema, goose.DefaultTablename)
	if err != nil {
		return fmt.Errorf("read the schema of %s: %w", schema, err)
	}
	catalog, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (schemaColumn, error) {
		var c schemaColumn
		err := row.Scan(&c.table, &c.column, &c.typ)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("read the schema of %s: %w", schema, err)
	}
	return compareSchema("PostgreSQL schema "+schema, tables, catalog, Kind.postgresType)
}

// pgTable returns the qualified, quoted name of t in schema.
func pgTable(schema string, t Table) string {
	return pgx.Identifier{schema, t.Name}.Sanitize()
}

// postgresSelect returns the query reading t's columns from schema,
// filtered by cond (may be ""), in primary-key order, each column as
// fromPostgres expects it: dates as YYYY-MM-DD text (to_char does not
// depend on DateStyle), JSON as its text. Text keys are ordered with the
// "C" collation, byte order as SQLite's BINARY, whatever the database's
// locale.
func postgresSelect(schema string, t Table, cond string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		col := pgx.Identifier{c.Name}.Sanitize()
		switch c.Kind {
		case Date:
			b.WriteString("to_char(" + col + ", 'YYYY-MM-DD')")
		case JSONText, JSONDoc, Pins:
			b.WriteString(col + "::text")
		default:
			b.WriteString(col)
		}
	}
	b.WriteString(" FROM " + pgTable(schema, t))
	if cond != "" {
		b.WriteString(" WHERE " + cond)
	}
	b.WriteString(" ORDER BY ")
	for i, k := range t.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{k}.Sanitize())
		if t.kind(k) != Int {
			b.WriteString(` COLLATE "C"`)
		}
	}
	return b.String()
}

// digestPostgres reads t from schema (filtered by cond with args) and
// returns its row count and checksum.
func digestPostgres(ctx context.Context, q pgQuerier, schema string, t Table, cond string, args ...any) (*digest, error) {
	rows, err := q.Query(ctx, postgresSelect(schema, t, cond), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", schema, t.Name, err)
	}
	defer rows.Close()
	d := newDigest()
	kinds := t.kinds()
	canon := make([]any, len(kinds))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", schema, t.Name, err)
		}
		for i, k := range kinds {
			if canon[i], err = fromPostgres(k, vals[i]); err != nil {
				return nil, fmt.Errorf("%s.%s: column %s: %w", schema, t.Name, t.Columns[i].Name, err)
			}
		}
		d.add(kinds, canon)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", schema, t.Name, err)
	}
	return d, nil
}

// copySource feeds COPY from a SQLite read, converting each row into
// PostgreSQL's values through its canonical form.
type copySource struct {
	rows *sqliteRows
	vals []any
	err  error
}

// Next implements pgx.CopyFromSource.
func (c *copySource) Next() bool {
	if !c.rows.next() {
		return false
	}
	for i, k := range c.rows.kinds {
		v, err := toPostgres(k, c.rows.canon[i])
		if err != nil {
			c.err = fmt.Errorf("%s %s row %s: column %s: %w", c.rows.where, c.rows.table.Name,
				rowKey(c.rows.table, c.rows.raw), c.rows.table.Columns[i].Name, err)
			return false
		}
		c.vals[i] = v
	}
	return true
}

// Values implements pgx.CopyFromSource.
func (c *copySource) Values() ([]any, error) { return c.vals, nil }

// Err implements pgx.CopyFromSource.
func (c *copySource) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.rows.err
}

// copyRows copies what rows reads into t of schema with COPY and returns
// how many rows went in.
func copyRows(ctx context.Context, tx pgx.Tx, schema string, rows *sqliteRows) (int64, error) {
	src := &copySource{rows: rows, vals: make([]any, len(rows.kinds))}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{schema, rows.table.Name}, rows.table.columns(), src)
	if closeErr := rows.close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return n, fmt.Errorf("copy %s into %s.%s: %w", rows.where, schema, rows.table.Name, err)
	}
	return n, nil
}

// copyCanonical copies rows already held as canonical values into t of
// schema with COPY.
func copyCanonical(ctx context.Context, tx pgx.Tx, schema string, t Table, rows [][]any) error {
	kinds := t.kinds()
	_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, t.Name}, t.columns(), pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		vals := make([]any, len(kinds))
		for j, k := range kinds {
			v, err := toPostgres(k, rows[i][j])
			if err != nil {
				return nil, fmt.Errorf("control.db %s row %s: column %s: %w", t.Name, rowKey(t, rows[i]), t.Columns[j].Name, err)
			}
			vals[j] = v
		}
		return vals, nil
	}))
	if err != nil {
		return fmt.Errorf("copy into %s.%s: %w", schema, t.Name, err)
	}
	return nil
}

// tenantSlugs returns the slugs of the target's tenants.
func tenantSlugs(ctx context.Context, pool *pgxpool.Pool, schema string) (map[string]bool, error) {
	rows, err := pool.Query(ctx, "SELECT slug FROM "+pgx.Identifier{schema, "tenants"}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("list the target's tenants: %w", err)
	}
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list the target's tenants: %w", err)
	}
	out := make(map[string]bool, len(slugs))
	for _, s := range slugs {
		out[s] = true
	}
	return out, nil
}
