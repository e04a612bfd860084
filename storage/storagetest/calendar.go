package storagetest

import (
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func window(id string, fromH, untilH int) trains.Window {
	return trains.Window{
		ID: id, From: T0.Add(time.Duration(fromH) * time.Hour), Until: T0.Add(time.Duration(untilH) * time.Hour),
		Reason: "mtest-val-01 re-roll " + id, By: "U9", Created: T0,
	}
}

func windowIDs(ws []trains.Window) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.ID)
	}
	return out
}

func testWindows(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	got, err := h.Store.Windows(ctx, T0)
	must(t, "windows of an empty store", err)
	diff(t, "windows of an empty store", []string{}, windowIDs(got))

	for _, w := range []trains.Window{window("w3", 5, 8), window("w1", -10, -2), window("w2", 1, 4)} {
		must(t, "put window "+w.ID, h.Store.PutWindow(ctx, w))
	}
	got, err = h.Store.Windows(ctx, T0)
	must(t, "windows", err)
	diff(t, "windows ending after T0, by start", []string{"w2", "w3"}, windowIDs(got))
	diff(t, "a stored window", window("w2", 1, 4), got[0])

	got, err = h.Store.Windows(ctx, T0.Add(4*time.Hour))
	must(t, "windows", err)
	diff(t, "a window ending exactly at since is over", []string{"w3"}, windowIDs(got))

	got, err = h.Store.Windows(ctx, T0.Add(-100*time.Hour))
	must(t, "windows", err)
	diff(t, "all windows", []string{"w1", "w2", "w3"}, windowIDs(got))

	// Ending a window early replaces it by id.
	ended, err := trains.EndEarly(window("w3", 5, 8), T0.Add(6*time.Hour), "U2")
	must(t, "end early", err)
	must(t, "replace window", h.Store.PutWindow(ctx, ended))
	got, err = h.Store.Windows(ctx, T0.Add(7*time.Hour))
	must(t, "windows", err)
	diff(t, "windows after one ended early", []string{}, windowIDs(got))
	got, err = h.Store.Windows(ctx, T0)
	must(t, "windows", err)
	diff(t, "the ended window", []trains.Window{window("w2", 1, 4), ended}, got)

	// Windows that end at the same instant are all listed; an end a
	// nanosecond after since counts, one exactly at since does not.
	same := []trains.Window{window("s1", 20, 30), window("s2", 21, 30), window("s3", 22, 30)}
	same[2].Until = same[2].Until.Add(time.Nanosecond)
	for _, w := range same {
		must(t, "put window "+w.ID, h.Store.PutWindow(ctx, w))
	}
	got, err = h.Store.Windows(ctx, T0.Add(30*time.Hour-time.Nanosecond))
	must(t, "windows", err)
	diff(t, "windows ending at the same instant", []string{"s1", "s2", "s3"}, windowIDs(got))
	got, err = h.Store.Windows(ctx, T0.Add(30*time.Hour))
	must(t, "windows", err)
	diff(t, "a nanosecond later", []string{"s3"}, windowIDs(got))

	// A window extended later moves: it is listed by its new end.
	longer := window("w1", -10, 40)
	must(t, "extend window", h.Store.PutWindow(ctx, longer))
	got, err = h.Store.Windows(ctx, T0.Add(31*time.Hour))
	must(t, "windows", err)
	diff(t, "the extended window", []trains.Window{longer}, got)
}

func testRotation(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	_, err := h.Store.Rotation(ctx)
	wantErr(t, "rotation never set", err, trains.ErrNotFound)

	must(t, "set overrides", h.Store.SetOverrides(ctx, map[trains.TrainID]string{"dev-2026-12-01": "U7", "staging-2026-12-02": "U8"}))
	got, err := h.Store.Rotation(ctx)
	must(t, "rotation with only overrides", err)
	diff(t, "rotation with only overrides", trains.Rotation{Overrides: map[trains.TrainID]string{"dev-2026-12-01": "U7", "staging-2026-12-02": "U8"}}, got)

	must(t, "set rotation", h.Store.SetRotation(ctx, []string{"U1", "U2", "U3"}, T0))
	must(t, "set rotation again", h.Store.SetRotation(ctx, []string{"U3", "U1"}, T0.Add(time.Hour)))
	got, err = h.Store.Rotation(ctx)
	must(t, "rotation", err)
	diff(t, "SetRotation keeps the overrides", trains.Rotation{
		Members: []string{"U3", "U1"}, Since: T0.Add(time.Hour),
		Overrides: map[trains.TrainID]string{"dev-2026-12-01": "U7", "staging-2026-12-02": "U8"},
	}, got)

	// A swap sets two at once; an empty user removes one.
	must(t, "swap", h.Store.SetOverrides(ctx, map[trains.TrainID]string{"dev-2026-12-01": "", "dev-2026-12-08": "U1", "staging-2026-12-02": "U3"}))
	got, err = h.Store.Rotation(ctx)
	must(t, "rotation", err)
	diff(t, "overrides after a swap", map[trains.TrainID]string{"dev-2026-12-08": "U1", "staging-2026-12-02": "U3"}, got.Overrides)
	must(t, "no overrides", h.Store.SetOverrides(ctx, nil))
}

func testStartedLine(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	l, err := h.Store.StartedLine(ctx)
	must(t, "started line never set", err)
	diff(t, "started line never set", trains.Line{}, l)
	must(t, "set line", h.Store.SetStartedLine(ctx, trains.Line{Major: 0, Minor: 6, Patch: 0}))
	must(t, "set line", h.Store.SetStartedLine(ctx, trains.Line{Major: 1, Minor: 2, Patch: 3}))
	l, err = h.Store.StartedLine(ctx)
	must(t, "started line", err)
	diff(t, "started line", trains.Line{Major: 1, Minor: 2, Patch: 3}, l)
}

// testCalendarState: trains.ReadCalendarState (a backend's CalendarReader,
// or the four calls) reads what the four calls read.
func testCalendarState(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	q := trains.TrainQuery{From: T0, Newest: 3}
	st, err := trains.ReadCalendarState(ctx, h.Store, T0, q)
	must(t, "calendar state of an empty store", err)
	diff(t, "calendar state of an empty store", trains.CalendarState{}, st)

	for hr := range 5 {
		create(t, h, train("dev", hr-1, trains.Scheduled))
	}
	must(t, "put window", h.Store.PutWindow(ctx, window("w1", 1, 2)))
	must(t, "put window", h.Store.PutWindow(ctx, window("w0", -3, -1)))
	must(t, "set rotation", h.Store.SetRotation(ctx, []string{"U1", "U2"}, T0))
	must(t, "set line", h.Store.SetStartedLine(ctx, trains.Line{Minor: 6}))

	st, err = trains.ReadCalendarState(ctx, h.Store, T0, q)
	must(t, "calendar state", err)
	ws, err := h.Store.Windows(ctx, T0)
	must(t, "windows", err)
	rot, err := h.Store.Rotation(ctx)
	must(t, "rotation", err)
	ts, err := h.Store.ListTrains(ctx, q)
	must(t, "list trains", err)
	diff(t, "calendar state", trains.CalendarState{Windows: ws, Rotation: rot, HasRotation: true, Trains: ts, Line: trains.Line{Minor: 6}}, st)
	if len(ws) != 1 || len(ts) != 3 {
		t.Errorf("got %d windows and %d trains, want 1 and 3", len(ws), len(ts))
	}
}
