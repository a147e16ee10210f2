package capability

import (
	"context"
	"time"
)

// Project is a container of tasks in one tenant.
type Project struct {
	ID          string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Staff is a person (or agent) in a tenant whom tasks can be assigned to.
type Staff struct {
	ID        string
	Name      string
	Email     string
	Role      string
	CreatedAt time.Time
}

// Task statuses. The set is closed and shared by every read contract.
const (
	TaskTodo      = "todo"
	TaskDoing     = "doing"
	TaskWaiting   = "waiting"
	TaskReview    = "review"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// Task is one unit of work in a project.
type Task struct {
	ID          string
	ProjectID   string
	Title       string
	Description string
	Status      string
	Priority    string // "", low, medium, high
	DueDate     string // "" or YYYY-MM-DD
	AssigneeID  string // "" or a staff id
	AgentVendor string
	// CancelReason is why the task was cancelled ("" if it was not, or
	// no reason was given).
	CancelReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Page asks for at most Limit rows whose ID sorts after AfterID.
// IDs are time-ordered, so pages run oldest first and are stable under
// concurrent inserts.
type Page struct {
	AfterID string
	Limit   int
}

// ProjectFilter selects projects. Query matches name or description,
// case-insensitively.
type ProjectFilter struct {
	Query string
	Page  Page
}

// StaffFilter selects staff. Query matches name, email or role.
type StaffFilter struct {
	Query string
	Page  Page
}

// TaskFilter selects tasks; empty fields do not filter. DueBefore and
// DueAfter are inclusive YYYY-MM-DD bounds and exclude tasks without a due
// date. Query matches title or description, case-insensitively.
type TaskFilter struct {
	ProjectID  string
	Status     []string
	AssigneeID string
	Priority   string
	DueBefore  string
	DueAfter   string
	Query      string
	Page       Page
}

// Tx is one tenant transaction. All reads and writes of a call go through
// one Tx, so a rejected call changes nothing. Find* return ErrNotFound for a
// missing row; list methods return up to Page.Limit+1 rows so callers can
// tell whether another page exists.
type Tx interface {
	CreateProject(ctx context.Context, p *Project) error
	FindProjectByID(ctx context.Context, id string) (*Project, error)
	FindProjectByName(ctx context.Context, name string) (*Project, error) // case-insensitive
	FindProjects(ctx context.Context, f ProjectFilter) ([]*Project, error)
	CountTasksByStatus(ctx context.Context, projectID string) (map[string]int, error)

	CreateStaff(ctx context.Context, s *Staff) error
	FindStaffByID(ctx context.Context, id string) (*Staff, error)
	FindStaff(ctx context.Context, f StaffFilter) ([]*Staff, error)

	CreateTask(ctx context.Context, t *Task) error
	FindTaskByID(ctx context.Context, id string) (*Task, error)
	FindTasks(ctx context.Context, f TaskFilter) ([]*Task, error)
	// UpdateTask writes every mutable field of t (title, description,
	// status, priority, due date, assignee, cancel reason, updated_at).
	UpdateTask(ctx context.Context, t *Task) error

	WorkTx
	IdempotencyTx
}

// TenantStore is one tenant's database.
type TenantStore interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a write transaction that takes the write lock up
	// front; it commits only if fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tenant is an organisation with its own database and keys.
type Tenant struct {
	Slug      string
	Name      string
	CreatedAt time.Time
}

// APIKey is the stored, public part of a key; the secret is only ever
// shown once, at creation.
type APIKey struct {
	Prefix    string
	Tenant    string
	Scopes    []Scope
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: active
	LastUsed  time.Time // zero: never used
	Pins      map[string]string
}

// CallRecord is one entry of the call log.
type CallRecord struct {
	At         time.Time
	Tenant     string
	KeyPrefix  string
	Capability string // name@version, or the name as asked when unresolved
	Outcome    string // "ok" or an error code
	Duration   time.Duration
	Replayed   bool // answered from an idempotency key's stored result
}

// ControlStore holds what is shared across tenants: the tenant list, hashed
// API keys and the call log. It never holds tenant data.
type ControlStore interface {
	SetStore

	CreateTenant(ctx context.Context, t *Tenant) error // CodeAlreadyExists on a duplicate slug
	FindTenant(ctx context.Context, slug string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]*Tenant, error)

	// CreateKey stores a new key for tenant and returns its token, the only
	// time the secret exists outside the caller's hands.
	CreateKey(ctx context.Context, tenant string, scopes []Scope, expiresAt time.Time) (token string, key *APIKey, err error)
	ListKeys(ctx context.Context, tenant string) ([]*APIKey, error)
	RevokeKey(ctx context.Context, prefix string) error // ErrNotFound for an unknown prefix
	// PinKey sets the versions a key's bare capability names resolve to
	// (name -> exact version), replacing earlier pins.
	PinKey(ctx context.Context, prefix string, pins map[string]string) error
	// Authenticate returns the principal of a live token, or an
	// unauthenticated *Error for a missing, unknown, revoked or expired one.
	Authenticate(ctx context.Context, token string) (Principal, error)

	RecordCalls(ctx context.Context, calls []CallRecord) error
	ListCalls(ctx context.Context, tenant string, since time.Time, limit int) ([]CallRecord, error)

	// RecordConformance stores a run's results in one transaction.
	RecordConformance(ctx context.Context, results []ConformanceResult) error
	ListConformance(ctx context.Context, f ConformanceFilter) ([]ConformanceResult, error)
	// LatestConformance returns the newest result of each case on each
	// provider instance (one row per provider, capability, version and
	// case) matching f's Provider, Capability and Version.
	LatestConformance(ctx context.Context, f ConformanceFilter) ([]ConformanceResult, error)
}

// TenantStores opens tenant databases on demand.
type TenantStores interface {
	// Tenant returns the store of an existing tenant; ErrNotFound if the
	// tenant does not exist in the control store.
	Tenant(ctx context.Context, slug string) (TenantStore, error)
}

// ScratchStores gives throwaway copies of tenants' data, so a conformance
// run can exercise every capability, writes included, without touching
// what a tenant's agents see.
type ScratchStores interface {
	// Scratch returns a store over a copy of tenant's data as it is now.
	// Writes through it are never visible to the tenant's live store;
	// discard releases the copy and throws every change away. An unknown
	// tenant is ErrNotFound.
	Scratch(ctx context.Context, tenant string) (store TenantStore, discard func() error, err error)
}
