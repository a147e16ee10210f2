package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// SetChangesChannel is the LISTEN/NOTIFY channel on which nodes announce
// capability-set changes to each other.
const SetChangesChannel = "capd_set_changes"

// setChange is the payload of one notification.
type setChange struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
}

// PublishSetChange tells every node listening on the database, this one
// included, that owner's set name changed or was deleted. PostgreSQL
// delivers a notification only to sessions listening when it commits, and
// never persists it: a node that was disconnected misses it, which is why
// WatchSetChanges calls resync after every (re)connection.
func (db *DB) PublishSetChange(ctx context.Context, owner, name string) error {
	payload, err := json.Marshal(setChange{Owner: owner, Name: name})
	if err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", SetChangesChannel, string(payload)); err != nil {
		return fmt.Errorf("announce change of set %s/%s: %w", owner, name, err)
	}
	return nil
}

// WatchSetChanges listens for PublishSetChange announcements until ctx
// ends, calling changed for each. It holds one connection of the pool
// (LISTEN belongs to a session). After the first LISTEN and after every
// reconnection it calls resync, because announcements sent while no
// connection listened are lost. It reports a lost connection to lost,
// retries every retry (1 s if zero) and returns only when ctx ends.
func (db *DB) WatchSetChanges(ctx context.Context, retry time.Duration, changed func(owner, name string), resync func(), lost func(error)) {
	if retry <= 0 {
		retry = time.Second
	}
	for ctx.Err() == nil {
		err := db.listen(ctx, changed, resync)
		if ctx.Err() != nil {
			return
		}
		lost(err)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// listen runs one LISTEN session until it fails or ctx ends.
func (db *DB) listen(ctx context.Context, changed func(owner, name string), resync func()) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The session carries the LISTEN: never hand it back to the pool.
	defer func() {
		_ = conn.Hijack().Close(context.WithoutCancel(ctx))
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+SetChangesChannel); err != nil {
		return err
	}
	resync()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var c setChange
		if err := json.Unmarshal([]byte(n.Payload), &c); err != nil || c.Name == "" {
			continue // not ours
		}
		changed(c.Owner, c.Name)
	}
}

// TryLock takes the cluster-wide lock name if no session holds it, and
// reports whether it did. The lock is a session advisory lock held on a
// connection kept out of the pool until unlock, so it also ends if the
// node dies. Used so that one node at a time runs a scheduled job.
func (db *DB) TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	return tryLock(ctx, db.pool, "capd job "+name)
}

func tryLock(ctx context.Context, pool *pgxpool.Pool, key string) (func(), bool, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key).Scan(&got); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock %q: %w", key, err)
	}
	if !got {
		conn.Release()
		return nil, false, nil
	}
	unlock := func() {
		var released bool
		err := conn.QueryRow(context.Background(), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key).Scan(&released)
		if err != nil || !released {
			// Closing the session releases whatever it holds.
			_ = conn.Hijack().Close(context.Background())
			return
		}
		conn.Release()
	}
	return unlock, true, nil
}
