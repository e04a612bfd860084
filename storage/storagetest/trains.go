package storagetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// train makes a train of track at T0 plus d hours.
func train(track trains.Track, hours int, state trains.State) trains.Train {
	at := T0.Add(time.Duration(hours) * time.Hour)
	return trains.Train{
		ID: trains.NewTrainID(track, at, 1+(hours%24+24)%24), Track: track, At: at, State: state,
		Tag: "v0.5.0-" + string(track) + ".1", OnCall: "U1", Created: T0, Updated: T0,
		DispatchedAt: at.Add(time.Minute), DeployRunID: 1<<53 + 1, Message: trains.MessageRef{Channel: "C1", TS: "1.2"},
	}
}

func create(t testing.TB, h Harness, tr trains.Train) trains.Train {
	t.Helper()
	got, err := h.Store.CreateTrain(ctxOf(t), tr)
	must(t, "create train "+string(tr.ID), err)
	return got
}

func ids(ts []trains.Train) []trains.TrainID {
	out := []trains.TrainID{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func testCreateGetTrain(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	_, err := h.Store.GetTrain(ctx, "dev-2026-12-01")
	wantErr(t, "get a train never stored", err, trains.ErrNotFound)

	in := train("dev", 0, trains.Scheduled)
	in.Version = 7 // ignored: a new train is version 1
	got := create(t, h, in)
	want := in
	want.Version = 1
	diff(t, "created train", want, got)

	stored, err := h.Store.GetTrain(ctx, in.ID)
	must(t, "get train", err)
	diff(t, "stored train", want, stored)

	_, err = h.Store.CreateTrain(ctx, in)
	wantErr(t, "create a train whose id exists", err, trains.ErrConflict)
	stored, err = h.Store.GetTrain(ctx, in.ID)
	must(t, "get train", err)
	diff(t, "train after a refused create", want, stored)
}

func testUpdateTrain(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	_, err := h.Store.UpdateTrain(ctx, train("dev", 0, trains.Announced), trains.Fence{})
	wantErr(t, "update a train never stored", err, trains.ErrNotFound)

	v1 := create(t, h, train("dev", 0, trains.Scheduled))
	next := v1
	must(t, "move", next.MoveTo(trains.Announced, T0.Add(time.Minute)))
	v2, err := h.Store.UpdateTrain(ctx, next, trains.Fence{})
	must(t, "update train", err)
	if v2.Version != 2 || v2.State != trains.Announced {
		t.Fatalf("updated train has version %d and state %s, want 2 and announced", v2.Version, v2.State)
	}
	stored, err := h.Store.GetTrain(ctx, v1.ID)
	must(t, "get train", err)
	diff(t, "stored train after update", v2, stored)

	stale := v1
	stale.Reason = "stale write"
	_, err = h.Store.UpdateTrain(ctx, stale, trains.Fence{})
	wantErr(t, "update from a stale version", err, trains.ErrConflict)
	ahead := v2
	ahead.Version = 5
	_, err = h.Store.UpdateTrain(ctx, ahead, trains.Fence{})
	wantErr(t, "update from a version never stored", err, trains.ErrConflict)
	stored, err = h.Store.GetTrain(ctx, v1.ID)
	must(t, "get train", err)
	diff(t, "stored train after refused updates", v2, stored)
}

// testUpdateTrainRace: 100 goroutines update the same version; exactly one wins.
func testUpdateTrainRace(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	v1 := create(t, h, train("staging", 0, trains.Scheduled))
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			tr := v1
			tr.Reason = fmt.Sprintf("writer %d", i)
			<-start
			_, errs[i] = h.Store.UpdateTrain(ctx, tr, trains.Fence{})
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both won the same compare-and-set", won, i)
		case err == nil:
			won = i
		default:
			wantErr(t, fmt.Sprintf("writer %d", i), err, trains.ErrConflict)
		}
	}
	if won < 0 {
		t.Fatal("no writer won the compare-and-set")
	}
	stored, err := h.Store.GetTrain(ctx, v1.ID)
	must(t, "get train", err)
	if stored.Version != 2 || stored.Reason != fmt.Sprintf("writer %d", won) {
		t.Errorf("stored train has version %d and reason %q, want 2 and the winner's (writer %d)", stored.Version, stored.Reason, won)
	}
}

func testListTrains(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	got, err := h.Store.ListTrains(ctx, trains.TrainQuery{})
	must(t, "list an empty store", err)
	diff(t, "trains of an empty store", []trains.TrainID{}, ids(got))

	// Stored out of order; hours 0..5 and one a nanosecond after hour 2.
	var all []trains.Train
	for _, hr := range []int{3, 0, 5, 1, 4, 2} {
		all = append(all, create(t, h, train("dev", hr, trains.Scheduled)))
	}
	odd := train("hotfix", 2, trains.Deployed)
	odd.At = odd.At.Add(time.Nanosecond)
	create(t, h, odd)
	at := func(hr int) time.Time { return T0.Add(time.Duration(hr) * time.Hour) }
	id := func(hr int) trains.TrainID { return train("dev", hr, "").ID }

	for _, tc := range []struct {
		name string
		q    trains.TrainQuery
		want []trains.TrainID
	}{
		{"everything", trains.TrainQuery{}, []trains.TrainID{id(0), id(1), id(2), odd.ID, id(3), id(4), id(5)}},
		{"from is inclusive, to exclusive", trains.TrainQuery{From: at(1), To: at(3)}, []trains.TrainID{id(1), id(2), odd.ID}},
		{"exact to the nanosecond", trains.TrainQuery{From: odd.At, To: at(3)}, []trains.TrainID{odd.ID}},
		{"zero to has no bound", trains.TrainQuery{From: at(4)}, []trains.TrainID{id(4), id(5)}},
		{"newest", trains.TrainQuery{Newest: 2}, []trains.TrainID{id(4), id(5)}},
		{"newest in a range", trains.TrainQuery{To: at(3), Newest: 2}, []trains.TrainID{id(2), odd.ID}},
		{"newest before a bound inside a microsecond", trains.TrainQuery{To: odd.At, Newest: 1}, []trains.TrainID{id(2)}},
		{"newest above the count", trains.TrainQuery{From: at(5), Newest: 9}, []trains.TrainID{id(5)}},
		{"empty range", trains.TrainQuery{From: at(9)}, []trains.TrainID{}},
	} {
		got, err := h.Store.ListTrains(ctx, tc.q)
		must(t, tc.name, err)
		diff(t, tc.name, tc.want, ids(got))
	}
	got, err = h.Store.ListTrains(ctx, trains.TrainQuery{From: at(0), To: at(1)})
	must(t, "list", err)
	diff(t, "listed train", []trains.Train{all[1]}, got)

	// A postponed train moves in time; the index follows.
	moved := all[1]
	moved.At = at(7)
	_, err = h.Store.UpdateTrain(ctx, moved, trains.Fence{})
	must(t, "move a train", err)
	got, err = h.Store.ListTrains(ctx, trains.TrainQuery{From: at(6)})
	must(t, "list", err)
	diff(t, "trains after one moved", []trains.TrainID{id(0)}, ids(got))
}

func testOpenTrains(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	got, err := h.Store.OpenTrains(ctx)
	must(t, "open trains of an empty store", err)
	diff(t, "open trains of an empty store", []trains.TrainID{}, ids(got))

	a := create(t, h, train("dev", 2, trains.Confirmed))
	create(t, h, train("dev", 0, trains.Skipped))
	b := create(t, h, train("staging", 1, trains.Deploying))
	got, err = h.Store.OpenTrains(ctx)
	must(t, "open trains", err)
	diff(t, "open trains, oldest first", []trains.TrainID{b.ID, a.ID}, ids(got))
	diff(t, "open train", b, got[0])

	must(t, "move", b.MoveTo(trains.Deployed, T0))
	_, err = h.Store.UpdateTrain(ctx, b, trains.Fence{})
	must(t, "finish a train", err)
	got, err = h.Store.OpenTrains(ctx)
	must(t, "open trains", err)
	diff(t, "open trains after one was deployed", []trains.TrainID{a.ID}, ids(got))

	// A refused update changes nothing, open set included.
	stale := a
	stale.State = trains.Failed
	stale.Version = 9
	_, err = h.Store.UpdateTrain(ctx, stale, trains.Fence{})
	wantErr(t, "stale update", err, trains.ErrConflict)
	got, err = h.Store.OpenTrains(ctx)
	must(t, "open trains", err)
	diff(t, "open trains after a refused update", []trains.TrainID{a.ID}, ids(got))
}
