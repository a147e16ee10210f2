package metrics

import "github.com/prometheus/client_golang/prometheus"

// TenantPoolStats describes a store's pool of open tenant databases (the
// SQLite store's LRU). Opens, Hits and Evictions only grow.
type TenantPoolStats struct {
	Open      int    // tenant databases open now
	Opens     uint64 // cold opens: no open copy was there to reuse
	Hits      uint64 // uses that found the database open
	Evictions uint64 // databases closed to make room for another tenant
}

// TenantPool is a store that keeps a bounded pool of open tenant
// databases. Only the SQLite store has one: a PostgreSQL tenant is a
// schema, which costs nothing to keep "open".
type TenantPool interface {
	TenantPoolStats() TenantPoolStats
}

// WatchTenantPool exports p's statistics, read at each scrape.
func (m *Metrics) WatchTenantPool(p TenantPool) { m.reg.MustRegister(tenantPoolCollector{p}) }

var (
	tenantOpenDesc = prometheus.NewDesc("capd_tenant_databases_open",
		"Tenant databases open now (SQLite store; bounded by --max-open-tenants, above it only while evicted ones finish a transaction).", nil, nil)
	tenantOpensDesc = prometheus.NewDesc("capd_tenant_database_opens_total",
		"Tenant databases opened because no open copy was there to reuse (SQLite store).", nil, nil)
	tenantHitsDesc = prometheus.NewDesc("capd_tenant_database_hits_total",
		"Uses of a tenant database that found it already open (SQLite store).", nil, nil)
	tenantEvictionsDesc = prometheus.NewDesc("capd_tenant_database_evictions_total",
		"Tenant databases closed by the LRU to make room for another tenant (SQLite store; see --max-open-tenants).", nil, nil)
)

type tenantPoolCollector struct{ p TenantPool }

func (c tenantPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tenantOpenDesc
	ch <- tenantOpensDesc
	ch <- tenantHitsDesc
	ch <- tenantEvictionsDesc
}

func (c tenantPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.TenantPoolStats()
	ch <- prometheus.MustNewConstMetric(tenantOpenDesc, prometheus.GaugeValue, float64(s.Open))
	ch <- prometheus.MustNewConstMetric(tenantOpensDesc, prometheus.CounterValue, float64(s.Opens))
	ch <- prometheus.MustNewConstMetric(tenantHitsDesc, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(tenantEvictionsDesc, prometheus.CounterValue, float64(s.Evictions))
}

// ConnPoolStats describes a store's pool of database connections (the
// PostgreSQL store's).
type ConnPoolStats struct {
	InUse, Idle, Constructing int   // connections by state, now
	Max                       int   // the pool's size limit
	Acquires                  int64 // connections taken from the pool
	// WaitedAcquires counts acquisitions that found no idle connection
	// and had to wait for one to be made or returned.
	WaitedAcquires int64
}

// ConnPool is a store with a pool of database connections.
type ConnPool interface {
	ConnPoolStats() ConnPoolStats
}

// WatchConnPool exports p's statistics, read at each scrape.
func (m *Metrics) WatchConnPool(p ConnPool) { m.reg.MustRegister(connPoolCollector{p}) }

var (
	connsDesc = prometheus.NewDesc("capd_store_connections",
		"Database connections of this node's pool by state: in_use, idle or constructing (PostgreSQL store).", []string{"state"}, nil)
	connsMaxDesc = prometheus.NewDesc("capd_store_connections_max",
		"Size limit of this node's database connection pool (PostgreSQL store; pool_max_conns).", nil, nil)
	acquiresDesc = prometheus.NewDesc("capd_store_connection_acquires_total",
		"Connections taken from this node's pool (PostgreSQL store).", nil, nil)
	waitedDesc = prometheus.NewDesc("capd_store_connection_waits_total",
		"Connection acquisitions that found no idle connection and waited (PostgreSQL store); a rising share of acquires means the pool is too small.", nil, nil)
)

type connPoolCollector struct{ p ConnPool }

func (c connPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connsDesc
	ch <- connsMaxDesc
	ch <- acquiresDesc
	ch <- waitedDesc
}

func (c connPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.ConnPoolStats()
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(s.Constructing), "constructing")
	ch <- prometheus.MustNewConstMetric(connsMaxDesc, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(acquiresDesc, prometheus.CounterValue, float64(s.Acquires))
	ch <- prometheus.MustNewConstMetric(waitedDesc, prometheus.CounterValue, float64(s.WaitedAcquires))
}
