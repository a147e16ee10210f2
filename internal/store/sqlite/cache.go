package sqlite

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// errClosed is returned for any use of a store after Close.
var errClosed = errors.New("sqlite: store is closed")

// handle is one open tenant database and the number of transactions using
// it. A handle is in one of three states:
//
//   - opening: ready is not closed yet; callers wait on it.
//   - cached: elem is its place in the LRU.
//   - evicted: out of the LRU but still in use; it closes when refs reaches 0.
//
// A handle stays in tenantCache.live until it is closed, so a tenant is
// never open twice: a caller asking for an evicted handle that is still in
// use gets it back into the LRU instead of a second copy.
type handle struct {
	slug    string
	db      *database
	refs    int
	elem    *list.Element
	evicted bool
	ready   chan struct{} // closed once db or err is set
	err     error         // why opening failed
}

// tenantCache keeps tenant databases open in a bounded LRU, reference
// counted so eviction never closes a database under a running transaction.
type tenantCache struct {
	open     func(ctx context.Context, slug string) (*database, error)
	capacity int

	mu     sync.Mutex
	live   map[string]*handle // opening, cached and evicted-but-in-use
	lru    *list.List         // of *handle; front is most recently used
	opened int                // handles with an open database not yet closed
	closed bool

	// Counters for TenantStats, updated under mu but read without it, so
	// a metrics scrape never waits behind a tenant being opened.
	opens, hits, evictions atomic.Uint64
	openNow                atomic.Int64 // mirrors opened
}

func newTenantCache(capacity int, open func(ctx context.Context, slug string) (*database, error)) *tenantCache {
	return &tenantCache{
		open:     open,
		capacity: capacity,
		live:     make(map[string]*handle),
		lru:      list.New(),
	}
}

// acquire returns the open database of slug, opening it at most once however
// many callers ask at the same time. The caller must release the handle.
func (c *tenantCache) acquire(ctx context.Context, slug string) (*handle, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errClosed
	}
	if h, ok := c.live[slug]; ok {
		c.hits.Add(1)
		h.refs++
		var evicted []*handle
		switch {
		case h.elem != nil:
			c.lru.MoveToFront(h.elem)
		case h.evicted:
			h.evicted = false
			h.elem = c.lru.PushFront(h)
			evicted = c.trimLocked()
		}
		c.mu.Unlock()
		closeHandles(evicted)
		select {
		case <-h.ready:
		case <-ctx.Done():
			c.release(h)
			return nil, ctx.Err()
		}
		if h.err != nil {
			return nil, h.err
		}
		return h, nil
	}

	h := &handle{slug: slug, refs: 1, ready: make(chan struct{})}
	c.live[slug] = h
	c.mu.Unlock()

	// Other callers may be waiting on this open: one caller giving up must
	// not fail them all.
	db, err := c.open(context.WithoutCancel(ctx), slug)

	c.mu.Lock()
	if err != nil {
		delete(c.live, slug)
		h.err = err
		close(h.ready)
		c.mu.Unlock()
		return nil, err
	}
	h.db = db
	c.opened++
	c.openNow.Store(int64(c.opened))
	c.opens.Add(1)
	var evicted []*handle
	if c.closed {
		h.evicted = true // Close ran while we were opening
	} else {
		h.elem = c.lru.PushFront(h)
		evicted = c.trimLocked()
	}
	close(h.ready)
	c.mu.Unlock()
	closeHandles(evicted)
	return h, nil
}

// release ends one use of h; the last use of an evicted handle closes it.
func (c *tenantCache) release(h *handle) {
	c.mu.Lock()
	h.refs--
	closeNow := h.refs == 0 && h.evicted
	if closeNow {
		c.forgetLocked(h)
	}
	c.mu.Unlock()
	if closeNow {
		// The transaction that used h is over and succeeded or failed on
		// its own; a close error here has no caller to report to and
		// loses no committed data (WAL replays on the next open).
		_ = h.db.close()
	}
}

// trimLocked evicts least recently used handles until the LRU fits its
// capacity and returns those no one is using, for the caller to close after
// unlocking (closing checkpoints the WAL and must not block other tenants).
func (c *tenantCache) trimLocked() []*handle {
	var idle []*handle
	for c.lru.Len() > c.capacity {
		h := c.lru.Remove(c.lru.Back()).(*handle)
		h.elem = nil
		h.evicted = true
		if !c.closed {
			c.evictions.Add(1) // closing the store is not LRU pressure
		}
		if h.refs == 0 {
			c.forgetLocked(h)
			idle = append(idle, h)
		}
	}
	return idle
}

// forgetLocked removes h, which is about to be closed, from the live set.
func (c *tenantCache) forgetLocked(h *handle) {
	delete(c.live, h.slug)
	c.opened--
	c.openNow.Store(int64(c.opened))
}

// stats returns the LRU's counters; see TenantStats.
func (c *tenantCache) stats() TenantStats {
	return TenantStats{
		Opens:     c.opens.Load(),
		Hits:      c.hits.Load(),
		Evictions: c.evictions.Load(),
		Open:      int(c.openNow.Load()),
	}
}

// isOpen reports whether slug is open (or opening), so its existence in the
// control database was already established.
func (c *tenantCache) isOpen(slug string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.live[slug]
	return ok && h.db != nil
}

// openCount returns how many tenant databases are open, including evicted
// ones still in use.
func (c *tenantCache) openCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

// close closes every idle database and refuses new acquisitions; databases
// still in use close when their last transaction releases them.
func (c *tenantCache) close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.capacity = 0
	idle := c.trimLocked()
	c.mu.Unlock()
	var errs []error
	for _, h := range idle {
		errs = append(errs, h.db.close())
	}
	return errors.Join(errs...)
}

// closeHandles closes evicted idle handles; see release for why errors are
// dropped.
func closeHandles(hs []*handle) {
	for _, h := range hs {
		_ = h.db.close()
	}
}
