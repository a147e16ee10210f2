package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/capd-dev/capd/internal/capability"
)

var _ capability.ScratchStores = (*Tenants)(nil)

// Scratch copies slug's database (VACUUM INTO, see CopyTenant) into a
// data directory of its own under the system's temporary directory and
// returns the copy's store. The live tenant keeps serving while the copy
// is made; discard closes the copy and removes the directory.
func (t *Tenants) Scratch(ctx context.Context, slug string) (capability.TenantStore, func() error, error) {
	dir, err := os.MkdirTemp("", "capd-scratch-")
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (capability.TenantStore, func() error, error) {
		os.RemoveAll(dir)
		if errors.Is(err, capability.ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("scratch copy of tenant %s: %w", slug, err)
	}
	// The copy runs on the live store's clock and ID generator, so a
	// conformance run on it is as deterministic as the live store is.
	db, err := Open(ctx, Options{Dir: dir, MaxOpenTenants: 1, Now: t.now, NewID: t.newID})
	if err != nil {
		return fail(err)
	}
	if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}); err != nil {
		db.Close()
		return fail(err)
	}
	if err := t.CopyTenant(ctx, slug, TenantPath(dir, slug)); err != nil {
		db.Close()
		return fail(err)
	}
	store, err := db.Tenants().Tenant(ctx, slug)
	if err != nil {
		db.Close()
		return fail(err)
	}
	discard := func() error {
		return errors.Join(db.Close(), os.RemoveAll(dir))
	}
	return store, discard, nil
}
