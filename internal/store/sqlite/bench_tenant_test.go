package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/capd-dev/capd/internal/capability"
)

// tenantTouch is the unit of work of the tenant benchmarks and the scale
// test: get the tenant's store, as every call does, and read one row.
func tenantTouch(ctx context.Context, db *DB, slug, projectID string) error {
	store, err := db.Tenants().Tenant(ctx, slug)
	if err != nil {
		return err
	}
	return store.View(ctx, func(tx capability.Tx) error {
		_, err := tx.FindProjectByID(ctx, projectID)
		return err
	})
}

// benchTenants creates n tenants with one project each in db and returns
// their slugs and project IDs.
func benchTenants(b *testing.B, db *DB, n int) (slugs, projects []string) {
	for i := range n {
		slug := fmt.Sprintf("bench-%d", i)
		p := mustCreateProject(b, createTenant(b, db, slug), "Bench")
		slugs, projects = append(slugs, slug), append(projects, p.ID)
	}
	return slugs, projects
}

// BenchmarkColdTenantOpen measures a call to a tenant whose database is not
// open: open the file, set the pragmas, check the schema version, open a
// reader and read one row. The LRU holds one tenant and the benchmark
// alternates between two, so every iteration is a cold open and also closes
// the tenant it evicts, as a cold open does in a server whose LRU is full.
func BenchmarkColdTenantOpen(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, Options{MaxOpenTenants: 1})
	slugs, projects := benchTenants(b, db, 2)
	b.ReportAllocs()
	before := db.Tenants().Stats()
	i := 0
	for ; b.Loop(); i++ {
		if err := tenantTouch(ctx, db, slugs[i%2], projects[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	after := db.Tenants().Stats()
	b.ReportMetric(float64(after.Opens-before.Opens)/float64(i), "opens/op")
}

// BenchmarkWarmTenant is the floor under BenchmarkColdTenantOpen: the same
// call to a tenant whose database is already open.
func BenchmarkWarmTenant(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, Options{})
	slugs, projects := benchTenants(b, db, 2)
	b.ReportAllocs()
	before := db.Tenants().Stats()
	i := 0
	for ; b.Loop(); i++ {
		if err := tenantTouch(ctx, db, slugs[i%2], projects[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	after := db.Tenants().Stats()
	b.ReportMetric(float64(after.Opens-before.Opens)/float64(i), "opens/op")
}
