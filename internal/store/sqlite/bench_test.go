package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// BenchmarkCreateTask measures one write transaction creating one task, the
// shape of a projects.create_task call.
func BenchmarkCreateTask(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, Options{Now: time.Now})
	store := createTenant(b, db, "bench")
	project := mustCreateProject(b, store, "Bench")
	for i := 0; b.Loop(); i++ {
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: fmt.Sprint("task ", i)})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateTaskParallel measures write throughput with many callers
// queueing on the one writer.
func BenchmarkCreateTaskParallel(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, Options{Now: time.Now})
	store := createTenant(b, db, "bench")
	project := mustCreateProject(b, store, "Bench")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := store.Update(ctx, func(tx capability.Tx) error {
				return tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: "parallel"})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkFindTasks measures one read transaction listing a filtered page
// out of 5,000 tasks.
func BenchmarkFindTasks(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, Options{Now: time.Now})
	store := createTenant(b, db, "bench")
	project := mustCreateProject(b, store, "Bench")
	statuses := []string{capability.TaskTodo, capability.TaskDoing, capability.TaskDone}
	update(b, store, func(tx capability.Tx) error {
		for i := range 5000 {
			err := tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: fmt.Sprint("task ", i), Status: statuses[i%3]})
			if err != nil {
				return err
			}
		}
		return nil
	})
	filter := capability.TaskFilter{ProjectID: project.ID, Status: []string{capability.TaskDoing}, Page: capability.Page{Limit: 25}}
	for b.Loop() {
		err := store.View(ctx, func(tx capability.Tx) error {
			_, err := tx.FindTasks(ctx, filter)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate measures the per-request key check, which reads the
// control database every time.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, Options{Now: time.Now})
	if err := db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "bench"}); err != nil {
		b.Fatal(err)
	}
	token, _, err := db.Control().CreateKey(ctx, "bench", []capability.Scope{capability.ScopeProjectsRead}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Control().Authenticate(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
