// Package storecore holds the rules every capd store applies the same way,
// whatever its engine: the API key token format and hash, id generation,
// default page sizes, and what a tenant slug, a set name and a scope list
// may be. Keeping them in one place is what lets keys and ids move between
// engines (capd migrate) without being reissued, and lets both stores
// answer bad input with the same words.
package storecore
