package sqlite

// WriterDSN is the data source name a tenant database's writer connection
// uses for path: the same pragmas and transaction mode. The load tool's raw
// SQLite floor opens its databases with it, so floor and store differ only
// in what capd does around the insert.
func WriterDSN(path string) string { return dsn(path, writerParams) }
