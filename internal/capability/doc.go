// Package capability holds capd's domain: capability contracts, providers,
// stores, principals and the application error codes every adapter maps.
// It imports nothing else from capd; every other package points inward to it.
package capability
