package boltstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

const day = 24 * time.Hour

// TestRetention: with WithRetention, a write of a train, a deploy record
// or a quiet window deletes those of its kind older than the retention —
// a finished train with its sign-offs, override and own audit log — and
// an audit append the entries older; it keeps an unfinished train however
// old, and everything newer.
func TestRetention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t0 := storagetest.T0
	clock := trainstest.NewClock(t0.Add(-600 * day))
	s := openStore(t, clock, boltstore.WithRetention(400*day))

	mk := func(id string, at time.Time, st trains.State) {
		t.Helper()
		if _, err := s.CreateTrain(ctx, trains.Train{ID: trains.TrainID(id), Track: "dev", At: at, State: st}); err != nil {
			t.Fatal(err)
		}
	}
	mk("dev-old-done", t0.Add(-500*day), trains.Deployed)
	mk("dev-old-open", t0.Add(-500*day), trains.Scheduled)
	mk("dev-recent", t0.Add(-100*day), trains.Deployed)
	mustDo(t, s.RecordDeploy(ctx, trains.DeployRecord{RunID: 1, At: t0.Add(-500 * day), Ref: "main"}))
	mustDo(t, s.RecordDeploy(ctx, trains.DeployRecord{RunID: 2, At: t0.Add(-10 * day), Ref: "main"}))
	mustDo(t, s.PutWindow(ctx, trains.Window{ID: "w-old", From: t0.Add(-501 * day), Until: t0.Add(-500 * day)}))
	mustDo(t, s.PutWindow(ctx, trains.Window{ID: "w-recent", From: t0.Add(-11 * day), Until: t0.Add(-10 * day)}))
	if _, err := s.AddSignOff(ctx, "dev-old-done", trains.Approval, trains.SignOffRecord{User: "U1", At: t0.Add(-500 * day)}); err != nil {
		t.Fatal(err)
	}
	mustDo(t, s.SetOverrides(ctx, map[trains.TrainID]string{"dev-old-done": "U1", "dev-recent": "U2"}))
	mustDo(t, s.Audit(ctx, trains.AuditEntry{At: t0.Add(-500 * day), User: "U1", Action: "cut", Train: "dev-old-done", Result: "ok"}))

	// Nothing is old yet: all is kept.
	if got, _ := s.ListTrains(ctx, trains.TrainQuery{}); len(got) != 3 {
		t.Fatalf("before the retention passes: %d trains, want 3", len(got))
	}

	clock.Set(t0)
	mk("dev-new", t0, trains.Scheduled)
	mustDo(t, s.RecordDeploy(ctx, trains.DeployRecord{RunID: 3, At: t0, Ref: "main"}))
	mustDo(t, s.PutWindow(ctx, trains.Window{ID: "w-new", From: t0, Until: t0.Add(day)}))

	got, err := s.ListTrains(ctx, trains.TrainQuery{})
	mustDo(t, err)
	if ids := trainIDs(got); ids != "[dev-old-open dev-recent dev-new]" {
		t.Errorf("trains kept: %s", ids)
	}
	if _, err := s.GetTrain(ctx, "dev-old-done"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("the old finished train: got %v, want ErrNotFound", err)
	}
	ds, err := s.Deploys(ctx, t0.Add(-1000*day), t0.Add(day))
	mustDo(t, err)
	if len(ds) != 2 || ds[0].RunID != 2 || ds[1].RunID != 3 {
		t.Errorf("deploys kept: %+v, want runs 2 and 3", ds)
	}
	ws, err := s.Windows(ctx, t0.Add(-1000*day))
	mustDo(t, err)
	if len(ws) != 2 || ws[0].ID != "w-recent" || ws[1].ID != "w-new" {
		t.Errorf("windows kept: %+v, want w-recent and w-new", ws)
	}
	if so, err := s.SignOffs(ctx, "dev-old-done", trains.Approval); err != nil || len(so) != 0 {
		t.Errorf("sign-offs of the deleted train: %v %v, want none", so, err)
	}
	if log, err := s.AuditLog(ctx, "dev-old-done", 0); err != nil || len(log) != 0 {
		t.Errorf("own audit log of the deleted train: %v %v, want none", log, err)
	}
	if all, err := s.AuditLog(ctx, "", 0); err != nil || len(all) != 1 {
		t.Errorf("the audit log before an append: %v %v, want its one entry", all, err)
	}
	mustDo(t, s.Audit(ctx, trains.AuditEntry{At: t0, User: "U1", Action: "pause", Result: "ok"}))
	if all, err := s.AuditLog(ctx, "", 0); err != nil || len(all) != 1 || all[0].Action != "pause" {
		t.Errorf("the audit log after an append: %v %v, want only the new entry", all, err)
	}
	r, err := s.Rotation(ctx)
	mustDo(t, err)
	if _, ok := r.Overrides["dev-old-done"]; ok || r.Overrides["dev-recent"] != "U2" {
		t.Errorf("overrides: %v, want only dev-recent's", r.Overrides)
	}
}

// TestRetentionCatchesUp: a file with more old records than one write
// trims is emptied of them over the next writes, each doing bounded work.
func TestRetentionCatchesUp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t0 := storagetest.T0
	clock := trainstest.NewClock(t0.Add(-600 * day))
	s := openStore(t, clock, boltstore.WithRetention(400*day))
	const old = 1000
	for i := range old {
		mustDo(t, s.RecordDeploy(ctx, trains.DeployRecord{RunID: int64(i + 1), At: t0.Add(-500*day + time.Duration(i)*time.Minute), Ref: "main"}))
	}
	clock.Set(t0)
	count := func() int {
		ds, err := s.Deploys(ctx, t0.Add(-1000*day), t0.Add(day))
		mustDo(t, err)
		return len(ds)
	}
	mustDo(t, s.RecordDeploy(ctx, trains.DeployRecord{RunID: old + 1, At: t0, Ref: "main"}))
	if n := count(); n == 1 || n > old {
		t.Fatalf("after one write: %d records, want some old ones left (bounded work) and some gone", n)
	}
	for i := range old {
		mustDo(t, s.RecordDeploy(ctx, trains.DeployRecord{RunID: int64(old + 2 + i), At: t0, Ref: "main"}))
		if count() == i+2 {
			return
		}
	}
	t.Fatalf("the old records were never all trimmed: %d left", count())
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func trainIDs(ts []trains.Train) string {
	ids := make([]trains.TrainID, 0, len(ts))
	for _, tr := range ts {
		ids = append(ids, tr.ID)
	}
	return fmt.Sprint(ids)
}
