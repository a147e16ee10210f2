package invoke

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// BatchRecorder writes call records to the control store in batches from one
// goroutine, so recording never adds a control-database write to a call's
// latency. When the buffer is full a record is dropped and counted rather
// than slowing calls down.
type BatchRecorder struct {
	store   capability.ControlStore
	logger  *slog.Logger
	ch      chan capability.CallRecord
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
}

// NewBatchRecorder starts a recorder; Close flushes and stops it.
func NewBatchRecorder(store capability.ControlStore, logger *slog.Logger) *BatchRecorder {
	r := &BatchRecorder{store: store, logger: logger, ch: make(chan capability.CallRecord, 8192), done: make(chan struct{})}
	go r.loop()
	return r
}

// Record queues c without blocking.
func (r *BatchRecorder) Record(c capability.CallRecord) {
	select {
	case r.ch <- c:
	default:
		r.dropped.Add(1)
	}
}

// Dropped returns how many records were dropped because the queue was full.
func (r *BatchRecorder) Dropped() int64 { return r.dropped.Load() }

// Close writes what is queued and stops the recorder.
func (r *BatchRecorder) Close() {
	r.once.Do(func() { close(r.ch) })
	<-r.done
}

func (r *BatchRecorder) loop() {
	defer close(r.done)
	const maxBatch = 512
	batch := make([]capability.CallRecord, 0, maxBatch)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.store.RecordCalls(ctx, batch); err != nil {
			r.logger.Error("record calls", "n", len(batch), "err", err)
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case c, ok := <-r.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, c)
			if len(batch) == maxBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}
