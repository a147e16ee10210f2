package transfer

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of Migrate or Verify: per tenant, then for the
// control logs, each table's rows and checksum on both sides.
type Report struct {
	// Units are the tenants in slug order, then the control unit (the
	// call log and conformance results).
	Units []*Unit
	// Stray are files in the source's tenants directory that belong to no
	// tenant; capd never opens them, and they are not moved.
	Stray []string
	// Upgraded are source files an older capd last wrote, read from a
	// copy upgraded to this capd's schema.
	Upgraded []string
	// Truncated counts source timestamps with digits below a microsecond,
	// which PostgreSQL does not keep.
	Truncated int64

	Copied     int64 // rows written (Migrate only)
	CopyTime   time.Duration
	Verified   int64 // source rows compared
	VerifyTime time.Duration
}

// Unit is one tenant, or the control logs, with its tables compared.
type Unit struct {
	Name   string // the tenant's slug, or "control"
	Tenant bool
	Status string // what happened to it: copied, resumed, verified
	// NoDatabase is a tenant that has no database yet: as in SQLite, its
	// schema is created on its first use, so only its control rows move.
	NoDatabase bool
	Tables     []TableCheck

	truncated int64
}

// TableCheck compares one table (of one tenant) between the engines.
// Control tables are named control.<table>.
type TableCheck struct {
	Table                  string
	SourceRows, TargetRows int64
	SourceSum, TargetSum   string // hex SHA-256 of the canonical rows
}

// Match reports whether the counts and checksums agree.
func (c TableCheck) Match() bool {
	return c.SourceRows == c.TargetRows && c.SourceSum == c.TargetSum
}

// add records the comparison of one table.
func (u *Unit) add(table string, source, target *digest) {
	u.Tables = append(u.Tables, TableCheck{
		Table:      table,
		SourceRows: source.rows, TargetRows: target.rows,
		SourceSum: source.sum(), TargetSum: target.sum(),
	})
}

// OK reports whether every table of the unit matches.
func (u *Unit) OK() bool { return len(u.mismatches()) == 0 }

// mismatches names the tables that differ.
func (u *Unit) mismatches() []string {
	var out []string
	for _, t := range u.Tables {
		if !t.Match() {
			out = append(out, t.Table)
		}
	}
	return out
}

// OK reports whether every table of every unit matches.
func (r *Report) OK() bool { return r.Mismatches() == 0 }

// Mismatches counts the tables that differ.
func (r *Report) Mismatches() int {
	n := 0
	for _, u := range r.Units {
		n += len(u.mismatches())
	}
	return n
}

// short abbreviates a checksum for the table; twelve hex digits tell
// checksums apart at a glance, and any difference is also a MISMATCH.
func short(sum string) string { return sum[:12] }

// WriteText writes the report for a person: a table per unit, then a
// summary. Rates are rows per second of wall time.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	tables := 0
	for _, u := range r.Units {
		head := "tenant " + u.Name
		if !u.Tenant {
			head = "control (call log and conformance results)"
		}
		if u.Status != "" {
			head += ": " + u.Status
		}
		if u.NoDatabase {
			head += "; no tenant database yet (created on first use, as with SQLite)"
		}
		fmt.Fprintln(tw, head)
		fmt.Fprintln(tw, "  TABLE\tROWS\t  CHECKSUM\t  MATCH\t")
		for _, t := range u.Tables {
			tables++
			if t.Match() {
				fmt.Fprintf(tw, "  %s\t%d\t  %s\t  ok\t\n", t.Table, t.SourceRows, short(t.SourceSum))
				continue
			}
			fmt.Fprintf(tw, "  %s\t%d source, %d target\t  %s source, %s target\t  MISMATCH\t\n",
				t.Table, t.SourceRows, t.TargetRows, short(t.SourceSum), short(t.TargetSum))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, f := range r.Stray {
		fmt.Fprintf(&b, "not moved: %s belongs to no tenant of control.db; capd never opens it\n", f)
	}
	for _, f := range r.Upgraded {
		fmt.Fprintf(&b, "read %s from a copy upgraded to this capd's schema (an older capd last wrote it; the file itself is unchanged)\n", f)
	}
	if r.Truncated > 0 {
		fmt.Fprintf(&b, "timestamps: %d source values had digits below a microsecond; PostgreSQL keeps microseconds, "+
			"so they were truncated, as the PostgreSQL store truncates every time it writes, and are compared truncated\n", r.Truncated)
	}
	if r.CopyTime > 0 {
		fmt.Fprintf(&b, "copied %d rows in %s (%s rows/s)\n", r.Copied, r.CopyTime.Round(time.Millisecond), rate(r.Copied, r.CopyTime))
	}
	fmt.Fprintf(&b, "verified %d rows in %s (%s rows/s on each side)\n", r.Verified, r.VerifyTime.Round(time.Millisecond), rate(r.Verified, r.VerifyTime))
	if n := r.Mismatches(); n > 0 {
		fmt.Fprintf(&b, "MISMATCH: %d of %d tables differ between source and target\n", n, tables)
	} else {
		fmt.Fprintf(&b, "all %d tables match: same rows, same checksums\n", tables)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rate formats n per d as a whole number.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}
