package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

// historyWrites are writes a command or a train step makes, counted
// beside the reads: they must not grow with history either.
var historyWrites = []storagetest.CommandRead{
	{Name: "CreateTrain", Read: func(ctx context.Context, s trains.Store, now time.Time) error {
		_, err := s.CreateTrain(ctx, trains.Train{ID: "hotfix-now", Track: trains.Hotfix, At: now, State: trains.Deployed})
		return err
	}},
	{Name: "UpdateTrain", Read: func(ctx context.Context, s trains.Store, _ time.Time) error {
		t, err := s.GetTrain(ctx, "dev-upcoming")
		if err != nil {
			return err
		}
		_, err = s.UpdateTrain(ctx, t, trains.Fence{})
		return err
	}},
	{Name: "PutWindow", Read: func(ctx context.Context, s trains.Store, now time.Time) error {
		return s.PutWindow(ctx, trains.Window{ID: "w-now", From: now, Until: now.Add(time.Hour), Reason: "r", By: "UOPS"})
	}},
	{Name: "RecordDeploy", Read: func(ctx context.Context, s trains.Store, now time.Time) error {
		return s.RecordDeploy(ctx, trains.DeployRecord{RunID: 1e9, At: now, Ref: "main"})
	}},
	{Name: "Audit", Read: func(ctx context.Context, s trains.Store, now time.Time) error {
		return s.Audit(ctx, trains.AuditEntry{At: now, User: "UREL", Action: "cut", Train: "dev-upcoming", Result: "ok"})
	}},
}

// TestRoundTripsFlatWithHistory: every command's reads, a scheduler tick
// and the writes of a train take as many Redis round trips on a store with
// five years of history as on one with thirty days (issue 10). It counts
// round trips with the go-redis hook, so it does not depend on timing.
func TestRoundTripsFlatWithHistory(t *testing.T) {
	t.Parallel()
	now := storagetest.T0
	type world struct {
		name string
		h    harness
	}
	var worlds []world
	for _, hist := range []storagetest.History{storagetest.Days(30), storagetest.FiveYears} {
		h := newRedisHarness(t)
		h.clock.Set(now.Add(-hist.Span))
		if err := hist.Fill(t.Context(), h.store, h.clock.Set, now); err != nil {
			t.Fatal(err)
		}
		worlds = append(worlds, world{fmt.Sprintf("%d days", hist.Span/(24*time.Hour)), h})
	}
	for _, w := range worlds {
		var history, audit int64
		for _, k := range []string{"trains", "trains:version", "trains:by_at", "trains:write", "windows", "windows:until", "deploys", "deploys:at", "rotation:overrides", "audit"} {
			n, err := w.h.raw.MemoryUsage(t.Context(), w.h.store.Prefix()+k).Result()
			if err != nil {
				t.Fatalf("MEMORY USAGE %s: %v", k, err)
			}
			if k == "audit" {
				audit = n
			} else {
				history += n
			}
		}
		var perTrain int64
		ts, err := w.h.store.ListTrains(t.Context(), trains.TrainQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			for _, k := range []string{"audit:" + string(tr.ID), "signed:" + string(tr.ID) + ":" + string(trains.Approval)} {
				n, err := w.h.raw.MemoryUsage(t.Context(), w.h.store.Prefix()+k).Result()
				if err != nil && !errors.Is(err, redis.Nil) {
					t.Fatalf("MEMORY USAGE %s: %v", k, err)
				}
				perTrain += n
			}
		}
		t.Logf("%s of history: %.2f MB of trains, windows and deploy records; %.2f MB of audit stream; %.2f MB of trains' own audit streams and sign-offs",
			w.name, float64(history)/1e6, float64(audit)/1e6, float64(perTrain)/1e6)
	}
	for _, r := range append(append([]storagetest.CommandRead{}, storagetest.CommandReads...), historyWrites...) {
		var trips []int64
		for _, w := range worlds {
			before := w.h.rec.trips.Load()
			if err := r.Read(t.Context(), w.h.store, now); err != nil {
				t.Fatalf("%s on %s of history: %v", r.Name, w.name, err)
			}
			trips = append(trips, w.h.rec.trips.Load()-before)
		}
		t.Logf("%-30s %d round trip(s) after %s, %d after %s", r.Name, trips[0], worlds[0].name, trips[1], worlds[1].name)
		if trips[0] != trips[1] {
			t.Errorf("%s: %d round trips after %s of history, %d after %s: want the same", r.Name, trips[0], worlds[0].name, trips[1], worlds[1].name)
		}
	}
}
