package redisstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

// op is one store call for the round-trip count; i makes each call distinct.
type op struct {
	name string
	max  int64 // most round trips one call may take
	call func(ctx context.Context, s *redisstore.Store, i int) error
}

var t0 = storagetest.T0

// created numbers the trains the CreateTrain op makes.
var created atomic.Int64

func init() { created.Store(1000) }

func trainN(i int) trains.Train {
	return trains.Train{ID: trains.TrainID(fmt.Sprintf("dev-2026-12-01-%d", i+2)), Track: "dev", At: t0.Add(time.Duration(i) * time.Minute), State: trains.Scheduled}
}

var ops = []op{
	{"Ping", 1, func(ctx context.Context, s *redisstore.Store, _ int) error { return s.Ping(ctx) }},
	{"CreateTrain", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		tr := trainN(int(created.Add(1)))
		tr.State = trains.Deployed // keeps OpenTrains' work the same across runs
		_, err := s.CreateTrain(ctx, tr)
		return err
	}},
	{"GetTrain", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		_, err := s.GetTrain(ctx, trainN(i%10).ID)
		return err
	}},
	{"UpdateTrain", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		tr := trainN(i % 10)
		tr.Version = -1 // a lost compare-and-set costs what a won one does
		_, err := s.UpdateTrain(ctx, tr, trains.Fence{})
		return ignore(err, trains.ErrConflict)
	}},
	{"ListTrains", 2, func(ctx context.Context, s *redisstore.Store, _ int) error {
		_, err := s.ListTrains(ctx, trains.TrainQuery{From: t0, Newest: 4})
		return err
	}},
	{"OpenTrains", 2, func(ctx context.Context, s *redisstore.Store, _ int) error { _, err := s.OpenTrains(ctx); return err }},
	{"PutWindow", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		return s.PutWindow(ctx, trains.Window{ID: fmt.Sprintf("w%d", i%5), From: t0, Until: t0.Add(time.Hour), Reason: "r"})
	}},
	{"Windows", 2, func(ctx context.Context, s *redisstore.Store, _ int) error { _, err := s.Windows(ctx, t0); return err }},
	{"Rotation", 1, func(ctx context.Context, s *redisstore.Store, _ int) error { _, err := s.Rotation(ctx); return err }},
	{"SetRotation", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		return s.SetRotation(ctx, []string{"U1", "U2"}, t0)
	}},
	{"SetOverrides", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		return s.SetOverrides(ctx, map[trains.TrainID]string{"dev-2026-12-01": "U1", "dev-2026-12-02": "U2"})
	}},
	{"StartedLine", 1, func(ctx context.Context, s *redisstore.Store, _ int) error { _, err := s.StartedLine(ctx); return err }},
	{"SetStartedLine", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		return s.SetStartedLine(ctx, trains.Line{Minor: 6})
	}},
	{"AddSignOff", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		_, err := s.AddSignOff(ctx, "staging-2026-12-02", trains.Approval, trains.SignOffRecord{User: fmt.Sprintf("U%d", i%50), At: t0, Promotes: "v0.5.0-dev.4", Commit: "c4"})
		return err
	}},
	{"RemoveSignOffs", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		return s.RemoveSignOffs(ctx, "staging-2026-12-02", trains.Approval, []trains.SignOffRecord{{User: fmt.Sprintf("U%d", i%50), Promotes: "v0.5.0-dev.4", Commit: "c4"}})
	}},
	{"SignOffs", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		_, err := s.SignOffs(ctx, "staging-2026-12-02", trains.Approval)
		return err
	}},
	{"Claim", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		_, err := s.Claim(ctx, fmt.Sprintf("envelope:%d", i), time.Minute)
		return err
	}},
	{"Unclaim", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		return s.Unclaim(ctx, fmt.Sprintf("envelope:%d", i))
	}},
	{"TryLease", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		_, _, err := s.TryLease(ctx, "scheduler", "replica-a", time.Minute)
		return err
	}},
	{"RenewLease", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		_, err := s.RenewLease(ctx, trains.Lease{Name: "scheduler", Holder: "replica-a", Token: 1}, time.Minute)
		return ignore(err, trains.ErrLeaseLost)
	}},
	{"ReleaseLease", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		return s.ReleaseLease(ctx, trains.Lease{Name: "track:dev", Holder: "replica-a", Token: 99})
	}},
	{"Audit", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		return s.Audit(ctx, trains.AuditEntry{At: t0, User: "U1", Action: "cut", Train: trainN(i % 10).ID, Result: "ok"})
	}},
	{"AuditLog", 1, func(ctx context.Context, s *redisstore.Store, _ int) error {
		_, err := s.AuditLog(ctx, "", 20)
		return err
	}},
	{"RecordDeploy", 1, func(ctx context.Context, s *redisstore.Store, i int) error {
		return s.RecordDeploy(ctx, trains.DeployRecord{RunID: int64(i % 50), At: t0.Add(time.Duration(i) * time.Second), Ref: "main"})
	}},
	{"Deploys", 2, func(ctx context.Context, s *redisstore.Store, _ int) error {
		_, err := s.Deploys(ctx, t0, t0.Add(time.Hour))
		return err
	}},
	{"CalendarState", 2, func(ctx context.Context, s *redisstore.Store, _ int) error {
		_, err := s.CalendarState(ctx, t0, trains.TrainQuery{From: t0, Newest: 4})
		return err
	}},
}

func ignore(err, want error) error {
	if err == nil || errorsIs(err, want) {
		return nil
	}
	return err
}

// seed fills a store so that every read has something to read.
func seed(t testing.TB, s *redisstore.Store) {
	ctx := t.Context()
	if err := s.SetRotation(ctx, []string{"U1"}, t0); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := s.CreateTrain(ctx, trainN(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range ops { // and loads the scripts
		if err := o.call(ctx, s, i); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
	}
}

// TestRoundTrips counts the round trips of each call with a go-redis hook;
// most take one, range reads two, and the calendar's whole read takes two.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	h := newRedisHarness(t)
	seed(t, h.store)
	for i, o := range ops {
		before := h.rec.trips.Load()
		if err := o.call(t.Context(), h.store, 100+i); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		n := h.rec.trips.Load() - before
		t.Logf("%-14s %d round trip(s)", o.name, n)
		if n > o.max {
			t.Errorf("%s took %d round trips, want at most %d", o.name, n, o.max)
		}
	}
	st, err := h.store.CalendarState(t.Context(), t0, trains.TrainQuery{From: t0, Newest: 4})
	if err != nil || len(st.Windows) == 0 || len(st.Trains) != 4 || !st.HasRotation {
		t.Fatalf("the calendar read found too little to count fairly: %+v %v", st, err)
	}
}

// BenchmarkRoundTrips reports round trips and time per call of each method.
func BenchmarkRoundTrips(b *testing.B) {
	h := newRedisHarness(b)
	seed(b, h.store)
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			ctx := b.Context()
			before := h.rec.trips.Load()
			i := 0
			for b.Loop() {
				if err := o.call(ctx, h.store, i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(h.rec.trips.Load()-before)/float64(b.N), "roundtrips/op")
		})
	}
}

func BenchmarkCASContention(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("trains=%d", n), func(b *testing.B) { storagetest.BenchCAS(b, newHarness(b), n) })
	}
}
