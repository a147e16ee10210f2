// Package demo seeds the demo tenants that `capd serve --demo` starts with:
// three organisations with realistic projects, staff and tasks in several
// statuses. Seeding is idempotent: a tenant that exists is left alone.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// Tenants are the demo tenant slugs, in the order they are shown.
var Tenants = []string{"switchback-engineering", "driftline-design", "atelier-meridian"}

type task struct {
	title, description, status, priority, due, assignee string
}

type project struct {
	name, description string
	tasks             []task
}

type org struct {
	slug, name string
	staff      [][3]string // name, email, role
	projects   []project
}

// Seed creates each demo tenant that does not exist yet, with its data.
// It returns the slugs it created.
func Seed(ctx context.Context, control capability.ControlStore, tenants capability.TenantStores, now time.Time) ([]string, error) {
	var created []string
	for _, o := range orgs {
		_, err := control.FindTenant(ctx, o.slug)
		if err == nil {
			continue
		}
		if !errors.Is(err, capability.ErrNotFound) {
			return created, err
		}
		if err := control.CreateTenant(ctx, &capability.Tenant{Slug: o.slug, Name: o.name}); err != nil {
			if capability.ErrorCode(err) == capability.CodeAlreadyExists {
				continue // another node sharing the store seeds it
			}
			return created, fmt.Errorf("create demo tenant %s: %w", o.slug, err)
		}
		store, err := tenants.Tenant(ctx, o.slug)
		if err != nil {
			return created, err
		}
		if err := store.Update(ctx, func(tx capability.Tx) error { return seedOrg(ctx, tx, o, now) }); err != nil {
			return created, fmt.Errorf("seed demo tenant %s: %w", o.slug, err)
		}
		created = append(created, o.slug)
	}
	return created, nil
}

func seedOrg(ctx context.Context, tx capability.Tx, o org, now time.Time) error {
	// Rows are stamped over the past weeks so the data reads like real
	// history; ids stay time-ordered because they are made in this order.
	at := now.Add(-21 * 24 * time.Hour)
	tick := func() time.Time { at = at.Add(97 * time.Minute); return at }
	staffByFirst := map[string]string{}
	for _, s := range o.staff {
		st := &capability.Staff{Name: s[0], Email: s[1], Role: s[2], CreatedAt: tick()}
		if err := tx.CreateStaff(ctx, st); err != nil {
			return err
		}
		staffByFirst[firstName(s[0])] = st.ID
	}
	for _, p := range o.projects {
		t0 := tick()
		pr := &capability.Project{Name: p.name, Description: p.description, CreatedAt: t0, UpdatedAt: t0}
		if err := tx.CreateProject(ctx, pr); err != nil {
			return err
		}
		for _, t := range p.tasks {
			ts := tick()
			assignee := ""
			if t.assignee != "" {
				id, ok := staffByFirst[t.assignee]
				if !ok {
					return fmt.Errorf("demo task %q: no staff member %q", t.title, t.assignee)
				}
				assignee = id
			}
			due := ""
			if t.due != "" {
				d, err := time.ParseDuration(t.due)
				if err != nil {
					return err
				}
				due = now.Add(d).Format("2006-01-02")
			}
			if err := tx.CreateTask(ctx, &capability.Task{
				ProjectID: pr.ID, Title: t.title, Description: t.description, Status: t.status,
				Priority: t.priority, DueDate: due, AssigneeID: assignee, CreatedAt: ts, UpdatedAt: ts,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

func firstName(full string) string {
	for i, r := range full {
		if r == ' ' {
			return full[:i]
		}
	}
	return full
}
