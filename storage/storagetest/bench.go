package storagetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// BenchCAS measures compare-and-set under contention: b.RunParallel
// goroutines each read one of trainsN trains and update it, retrying on
// ErrConflict until they win; one op is one won update. trainsN = 1 is the
// worst contention. It reports cas/s (won updates per second) and
// conflicts/op.
func BenchCAS(b *testing.B, h Harness, trainsN int) {
	ctx := b.Context()
	ids := make([]trains.TrainID, trainsN)
	for i := range trainsN {
		tr := train("dev", i, trains.Scheduled)
		tr.ID = trains.TrainID(fmt.Sprintf("dev-2026-12-01-%d", i+2))
		ids[i] = create(b, h, tr).ID
	}
	var conflicts, next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[int(next.Add(1))%trainsN]
		for pb.Next() {
			for {
				tr, err := h.Store.GetTrain(ctx, id)
				if err != nil {
					b.Errorf("get: %v", err)
					return
				}
				tr.Reason = "bench"
				_, err = h.Store.UpdateTrain(ctx, tr, trains.Fence{})
				if err == nil {
					break
				}
				if !errors.Is(err, trains.ErrConflict) {
					b.Errorf("update: %v", err)
					return
				}
				conflicts.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cas/s")
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
}
