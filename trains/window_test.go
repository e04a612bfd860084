package trains

import (
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDecide(t *testing.T) {
	t.Parallel()
	slot := Slot{Dev, utc("2026-12-01 14:00")}
	next := utc("2026-12-08 14:00")
	win := func(from, until, reason string) Window {
		return Window{ID: reason, From: utc(from), Until: utc(until), Reason: reason}
	}
	tests := []struct {
		name   string
		ws     []Window
		action Action
		at     string
		reason string
	}{
		{name: "no window", action: RunSlot, at: "2026-12-01 14:00"},
		{name: "window elsewhere", ws: []Window{win("2026-12-02 00:00", "2026-12-03 00:00", "later")}, action: RunSlot, at: "2026-12-01 14:00"},
		{name: "ends at the slot: runs", ws: []Window{win("2026-12-01 10:00", "2026-12-01 14:00", "x")}, action: RunSlot, at: "2026-12-01 14:00"},
		{name: "starts at the slot: held", ws: []Window{win("2026-12-01 14:00", "2026-12-01 18:00", "re-roll")}, action: Postpone, at: "2026-12-01 18:00", reason: "re-roll"},
		{name: "postponed to the end", ws: []Window{win("2026-12-01 12:00", "2026-12-02 18:00", "mtest-val-01 re-roll")}, action: Postpone, at: "2026-12-02 18:00", reason: "mtest-val-01 re-roll"},
		{name: "chained windows", ws: []Window{win("2026-12-01 12:00", "2026-12-02 00:00", "a"), win("2026-12-02 00:00", "2026-12-03 00:00", "b")},
			action: Postpone, at: "2026-12-03 00:00", reason: "a"},
		{name: "overlapping windows take the longest", ws: []Window{win("2026-12-01 12:00", "2026-12-01 16:00", "short"), win("2026-12-01 13:00", "2026-12-01 20:00", "long")},
			action: Postpone, at: "2026-12-01 20:00", reason: "long"},
		{name: "ends at the next slot: skipped", ws: []Window{win("2026-12-01 00:00", "2026-12-08 14:00", "freeze")}, action: SkipSlot, at: "2026-12-01 14:00", reason: "freeze"},
		{name: "ends after the next slot: skipped", ws: []Window{win("2026-12-01 00:00", "2026-12-10 00:00", "freeze")}, action: SkipSlot, at: "2026-12-01 14:00", reason: "freeze"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(slot, next, tt.ws)
			if d.Action != tt.action || !d.At.Equal(utc(tt.at)) || d.Window.Reason != tt.reason {
				t.Errorf("Decide = {%v %s %q}, want {%v %s %q}", d.Action, d.At, d.Window.Reason, tt.action, tt.at, tt.reason)
			}
		})
	}
}

func TestWindowLife(t *testing.T) {
	t.Parallel()
	now := utc("2026-12-01 12:00")
	active := Window{ID: "a", From: utc("2026-12-01 10:00"), Until: utc("2026-12-01 18:00"), Reason: "re-roll"}
	planned := Window{ID: "p", From: utc("2026-12-03 10:00"), Until: utc("2026-12-03 18:00"), Reason: "upgrade"}
	over := Window{ID: "o", From: utc("2026-11-30 10:00"), Until: utc("2026-11-30 18:00"), Reason: "old"}
	a, p := Current([]Window{planned, over, active}, now)
	if len(a) != 1 || a[0].ID != "a" || len(p) != 1 || p[0].ID != "p" {
		t.Fatalf("Current = %v, %v", a, p)
	}
	if w, ok := Active([]Window{planned, active}, now); !ok || w.ID != "a" {
		t.Errorf("Active = %v, %v", w, ok)
	}
	ended, err := EndEarly(active, now, "U2")
	if err != nil || !ended.Until.Equal(now) || ended.EndedBy != "U2" || ended.Contains(now) {
		t.Errorf("EndEarly(active) = %+v, %v", ended, err)
	}
	cancelled, err := EndEarly(planned, now, "U2")
	if err != nil || cancelled.Contains(utc("2026-12-03 12:00")) {
		t.Errorf("EndEarly(planned) = %+v, %v; want it to hold nothing", cancelled, err)
	}
	if _, err := EndEarly(over, now, "U2"); err == nil {
		t.Error("ending a window that is over must fail")
	}
	if err := (Window{From: now, Until: now, Reason: ""}).Validate(); err == nil {
		t.Error("an empty window without reason was accepted")
	}
	if err := active.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseTimeAndDuration(t *testing.T) {
	t.Parallel()
	want := utc("2026-12-02 18:00")
	for _, s := range []string{"2026-12-02T18:00Z", "2026-12-02T18:00:00Z", "2026-12-02T19:00:00+01:00", "2026-12-02 18:00", "2026-12-02T18:00", "2026-12-02 18:00 UTC"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "tomorrow", "2026-12-02", "18:00", "2026-13-02 18:00", "2026-12-02T25:00Z"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) accepted", s)
		}
	}
	durs := map[string]time.Duration{"6h": 6 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "2d": 48 * time.Hour, "1d12h": 36 * time.Hour}
	for s, want := range durs {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0h", "-1h", "+1h", "6", "h", "1x", "400d", "9999999h", "d"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) accepted", s)
		}
	}
}

func TestWindowSummary(t *testing.T) {
	t.Parallel()
	w := Window{From: utc("2026-12-01 16:00"), Until: utc("2026-12-01 18:00"), Reason: "mtest-val-01 re-roll", By: "UANA"}
	want := "2026-12-01 16:00 UTC → 2026-12-01 18:00 UTC: mtest-val-01 re-roll (by <@UANA>)"
	if got := w.Summary().Plain(); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}
