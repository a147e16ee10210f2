package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/transfer"
)

// migrateConnectTimeout bounds connecting to the target when the URL sets
// no connect_timeout: an unreachable host should fail in seconds, not hang.
const migrateConnectTimeout = "10"

func newMigrateCmd() *cobra.Command {
	var (
		from, to   string
		resume     bool
		verifyOnly bool
		jobs       int
	)
	cmd := &cobra.Command{
		Use:   "migrate --from sqlite:DIR --to postgres://USER@HOST:PORT/DATABASE",
		Short: "Move a SQLite data directory into PostgreSQL and verify every table",
		Long: `Copy a whole SQLite data directory into a PostgreSQL database: every tenant with
its API keys (stored hashes, prefixes, scopes, pins, expiry, revocation and last use,
so existing keys keep working), capability sets, the call log, conformance results
and every table of every tenant's database. Then read both sides again and compare
them table by table.

Stop capd before migrating. The source (--from; --data and --store are not used) is opened
read-only and its databases are never written (SQLite's -shm file, a lock and WAL
index without data, is updated as by any reader). Each database is read in one
consistent snapshot, so a running capd cannot make the copy inconsistent; but what
it writes after that snapshot is not moved, and the verification reports it as a
mismatch.

Each tenant moves in one PostgreSQL transaction (its tenant row, keys, sets and all
of its data), so a failure leaves no half-copied tenant; the call log and the
conformance results follow in one more transaction and keep their ids. A tenant
whose database was never created gets its schema on first use, as with SQLite.

Verification: per tenant and table, the row count and a SHA-256 checksum over a
canonical, engine-neutral encoding of every row in primary-key order, computed
independently on each side. Value mappings: timestamps are truncated to whole
microseconds, PostgreSQL's precision, as the PostgreSQL store does on every write
(the report counts the values that had finer digits); optional text that is empty
and NULL mean the same; durations stay integer microseconds, negative ones
included; booleans are 0/1 in SQLite; JSON kept as text is compared byte for byte,
JSON stored as jsonb (set members and tags, key pins) by value.

The target must not already hold a tenant of the source, nor call-log or
conformance ids the source uses. If a migrate stopped part way, run it again with
--resume: what is already there is verified and kept, the rest is copied.

Exit status: 0 copied and every table matches; 1 the copy failed or a table
differs; 2 bad flags, an unreadable source or a target in the way (nothing
written).`,
		Example: `  capd migrate --from sqlite:./capd-data --to 'postgres://capd@db.internal:5432/capd?sslmode=verify-full'
  capd migrate --from sqlite:./capd-data --to postgres://capd@localhost/capd --resume
  capd migrate --from sqlite:./capd-data --to postgres://capd@localhost/capd --verify-only`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("capd migrate takes no arguments (got %q): give the source with --from sqlite:DIR and the target with --to postgres://...", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := parseFrom(from)
			if err != nil {
				return err
			}
			dsn, where, err := parseTo(to)
			if err != nil {
				return err
			}
			if jobs < 1 || jobs > 64 {
				return usageError("--jobs %d: give how many tenants to copy at once, from 1 to 64 (each holds a connection)", jobs)
			}
			if resume && verifyOnly {
				return usageError("--resume and --verify-only exclude each other: --verify-only copies nothing")
			}
			ctx := cmd.Context()
			src, err := transfer.OpenSource(ctx, dir)
			if err != nil {
				return usageError("--from %s: %v; give the data directory capd serve uses (its --data)", from, err)
			}
			defer src.Close()
			dst, err := openTarget(ctx, dsn, where, jobs)
			if err != nil {
				return err
			}
			defer dst.Close()

			var report *transfer.Report
			if verifyOnly {
				report, err = transfer.Verify(ctx, src, dst, jobs)
			} else {
				report, err = transfer.Migrate(ctx, src, dst, transfer.Options{Resume: resume, Jobs: jobs, Progress: cmd.ErrOrStderr()})
			}
			var refused *transfer.RefusedError
			if errors.As(err, &refused) {
				return usageError("--to %s: %v", where, refused)
			}
			if err != nil {
				return err
			}
			if err := report.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			if report.OK() && !verifyOnly {
				fmt.Fprintf(cmd.OutOrStdout(), "next: capd serve --store '%s' (with the URL's password, if it has one)\n", where)
			}
			if !report.OK() {
				return &exitError{code: 1, err: fmt.Errorf(
					"%d table(s) differ between %s and %s (MISMATCH above): the data changed on one side after the copy, or capd was running during it (stop it and migrate into an empty database)",
					report.Mismatches(), from, where)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the SQLite data directory to read, as sqlite:DIR (required)")
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database to fill, as a postgres:// URL (required)")
	cmd.Flags().BoolVar(&resume, "resume", false, "continue a migrate that stopped part way: keep what the target already has once it verifies")
	cmd.Flags().BoolVar(&verifyOnly, "verify-only", false, "copy nothing; compare source and target and report")
	cmd.Flags().IntVar(&jobs, "jobs", 4, "tenants copied and verified at once")
	return cmd
}

// parseFrom returns the directory of a --from value, sqlite:DIR.
func parseFrom(from string) (string, error) {
	if from == "" {
		return "", usageError("--from is required: give the SQLite data directory to move, e.g. --from sqlite:./capd-data")
	}
	dir, ok := strings.CutPrefix(from, "sqlite:")
	if !ok {
		return "", usageError("--from %q: capd migrate reads a SQLite data directory, given as sqlite:DIR, e.g. --from sqlite:./capd-data", from)
	}
	// sqlite://path is a common spelling of the same thing.
	if rest, ok := strings.CutPrefix(dir, "//"); ok {
		dir = rest
	}
	if dir == "" {
		return "", usageError("--from %q names no directory: give sqlite:DIR, e.g. --from sqlite:./capd-data", from)
	}
	return dir, nil
}

// parseTo checks a --to value and returns the DSN to connect with (a
// connect timeout added when it has none) and a description of the target
// without its password, for messages.
func parseTo(to string) (dsn, where string, err error) {
	if to == "" {
		return "", "", usageError("--to is required: give the PostgreSQL database to fill, e.g. --to postgres://capd@localhost:5432/capd")
	}
	u, perr := url.Parse(to)
	if perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		shown := to
		if perr == nil {
			shown = u.Redacted()
		} else if strings.Contains(to, "@") {
			shown = "(not shown: it may hold a password)"
		}
		return "", "", usageError("--to %s is not a PostgreSQL URL: give postgres://USER@HOST:PORT/DATABASE, e.g. --to postgres://capd@localhost:5432/capd", shown)
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", migrateConnectTimeout)
		u.RawQuery = q.Encode()
	}
	cfg, perr := pgxpool.ParseConfig(u.String())
	if perr != nil {
		return "", "", usageError("--to %s: %v", u.Redacted(), perr)
	}
	c := cfg.ConnConfig
	if c.Database == "" {
		return "", "", usageError("--to %s names no database: add it to the path, e.g. postgres://%s@%s:%d/capd", u.Redacted(), c.User, c.Host, c.Port)
	}
	return u.String(), fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database), nil
}

// openTarget connects to the target and creates or upgrades its control
// schema, naming the flag and what to check when the server cannot be
// reached.
func openTarget(ctx context.Context, dsn, where string, jobs int) (*postgres.DB, error) {
	// A connection per job, and one for the control reads beside them.
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: int32(jobs + 1)})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("--to %s: cannot use the database: %w; check that the server is running and reachable, "+
			"and that the URL's host, port, user, password and database are right (the database must exist)", where, err)
	}
	return db, nil
}
