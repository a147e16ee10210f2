// Package storetest is the one test body every capd store runs: the
// behaviour the storage interfaces of package capability promise
// (ControlStore with SetStore, TenantStores, TenantStore and Tx,
// ScratchStores) and the job locks, checked the same way against each
// engine.
//
// An engine's test file calls Run with a Harness that opens its stores over
// a fresh, empty database:
//
//	func TestStoreSuite(t *testing.T) {
//		storetest.Run(t, storetest.Harness{Open: openSuiteStores})
//	}
//
// The suite injects the clock and the ID generator, names subtests by
// outcome and checks error codes rather than message text. Where the
// engines legitimately differ it checks what both promise instead of
// special-casing one: PostgreSQL keeps timestamps to the microsecond and
// SQLite to the nanosecond, so a stored time is compared to the
// microsecond, and a value the store hands back after a write must equal
// what a later read returns. Behaviour only one engine has (the SQLite
// tenant LRU, PostgreSQL's schema per tenant, migrations) stays in that
// engine's own tests.
package storetest
