package trains

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func defaultSchedule() Schedule {
	return Schedule{
		Dev:           SlotTime{time.Tuesday, 14, 0},
		Staging:       SlotTime{time.Wednesday, 14, 0},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC),
	}
}

func ids(slots []Slot) []string {
	var out []string
	for _, s := range slots {
		out = append(out, string(s.ID())+" "+s.At.Format("15:04"))
	}
	return out
}

func TestUpcomingFromIssueExample(t *testing.T) {
	t.Parallel()
	// 2026-11-25 is a staging Wednesday; after 14:00 its slot is gone.
	now := time.Date(2026, 11, 25, 14, 0, 1, 0, time.UTC)
	got := ids(defaultSchedule().Upcoming(now, 4))
	want := []string{"dev-2026-12-01 14:00", "dev-2026-12-08 14:00", "staging-2026-12-09 14:00", "dev-2026-12-15 14:00"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Upcoming (-want +got):\n%s", diff)
	}
	// Before 14:00 the day's staging slot still counts; at 14:00 exactly too.
	for _, at := range []time.Time{time.Date(2026, 11, 25, 13, 59, 0, 0, time.UTC), time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)} {
		got = ids(defaultSchedule().Upcoming(at, 2))
		want = []string{"staging-2026-11-25 14:00", "dev-2026-12-01 14:00"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Upcoming(%s) (-want +got):\n%s", at, diff)
		}
	}
}

func TestStagingAnchorEitherDirection(t *testing.T) {
	t.Parallel()
	s := defaultSchedule()
	// An anchor far in the future gives the same weeks.
	s2 := s
	s2.StagingAnchor = time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC) // a Wednesday, 190 fortnights on
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	a, b := s.Slots(Staging, from, 10), s2.Slots(Staging, from, 10)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("anchors in either direction disagree (-past +future):\n%s", diff)
	}
	if got := a[0].At; !got.Equal(time.Date(2026, 5, 13, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("first staging after 2026-05-01 = %s, want 2026-05-13 14:00", got)
	}
	// before the anchor
	got := s.Slots(Staging, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 2)
	want := []time.Time{time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC), time.Date(2026, 4, 15, 14, 0, 0, 0, time.UTC)} // 6 and 4 weeks before
	for i := range want {
		if !got[i].At.Equal(want[i]) {
			t.Errorf("slot %d before anchor = %s, want %s", i, got[i].At, want[i])
		}
	}
	// An anchor of the wrong weekday is refused.
	s.StagingAnchor = time.Date(2026, 5, 14, 0, 0, 0, 0, time.UTC)
	if err := s.Validate(); err == nil {
		t.Error("a Thursday anchor for Wednesday staging was accepted")
	}
}

func TestCountMatchesBetween(t *testing.T) {
	t.Parallel()
	s := defaultSchedule()
	from := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	for _, days := range []int{0, 1, 6, 7, 13, 14, 15, 100, 365} {
		to := from.AddDate(0, 0, days)
		if got, want := s.Count(from, to), int64(len(s.Between(from, to))); got != want {
			t.Errorf("Count over %d days = %d, Between has %d", days, got, want)
		}
	}
	// half-open: a slot at `to` is not counted, one at `from` is.
	slot := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	if n := s.Count(slot, slot.Add(time.Second)); n != 1 {
		t.Errorf("Count([slot, slot+1s)) = %d, want 1", n)
	}
	if n := s.Count(slot.Add(-time.Hour), slot); n != 0 {
		t.Errorf("Count([slot-1h, slot)) = %d, want 0", n)
	}
}

func TestSameInstantSlots(t *testing.T) {
	t.Parallel()
	s := defaultSchedule()
	s.Dev = SlotTime{time.Wednesday, 14, 0} // dev and staging at the same time
	at := time.Date(2026, 12, 9, 14, 0, 0, 0, time.UTC)
	got := ids(s.Upcoming(at, 2))
	want := []string{"dev-2026-12-09 14:00", "staging-2026-12-09 14:00"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r := Rotation{Members: []string{"A", "B"}, Since: at}
	d, _ := r.Assignee(s, Slot{Dev, at})
	st, _ := r.Assignee(s, Slot{Staging, at})
	if d != "A" || st != "B" {
		t.Errorf("same-instant slots went to %s and %s, want A and B", d, st)
	}
}

func TestParseSlotTime(t *testing.T) {
	t.Parallel()
	good := map[string]SlotTime{
		"Tue 14:00":     {time.Tuesday, 14, 0},
		"tuesday 9:30":  {time.Tuesday, 9, 30},
		"WED 00:00":     {time.Wednesday, 0, 0},
		"  Sun   23:59": {time.Sunday, 23, 59},
	}
	for in, want := range good {
		got, err := ParseSlotTime(in)
		if err != nil || got != want {
			t.Errorf("ParseSlotTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"Tues 2pm", "Tue 24:00", "Tue 14:60", "Tue", "14:00", "Tu 14:00", "Tue 14:00 UTC", ""} {
		if _, err := ParseSlotTime(in); err == nil {
			t.Errorf("ParseSlotTime(%q) accepted", in)
		}
	}
	if got := (SlotTime{time.Tuesday, 9, 5}).String(); got != "Tue 09:05" {
		t.Errorf("String() = %q", got)
	}
}

func TestTrainIDs(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	if got := NewTrainID(Dev, at, 1); got != "dev-2026-12-01" {
		t.Errorf("id = %s", got)
	}
	if got := NewTrainID(Hotfix, at, 2); got != "hotfix-2026-12-01-2" {
		t.Errorf("id = %s", got)
	}
	for _, s := range []string{"dev-2026-12-01", "staging-2026-12-09", "hotfix-2026-12-01-2"} {
		if _, _, _, err := ParseTrainID(s); err != nil {
			t.Errorf("ParseTrainID(%q): %v", s, err)
		}
	}
	for _, s := range []string{"dev-2026-13-01", "prod-2026-12-01", "dev-2026-12-01-1", "dev-2026-12-01-0", "next", ""} {
		if _, _, _, err := ParseTrainID(s); err == nil {
			t.Errorf("ParseTrainID(%q) accepted", s)
		}
	}
}
