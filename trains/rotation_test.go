package trains

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRotationAssignee(t *testing.T) {
	t.Parallel()
	s := defaultSchedule()
	since := utc("2026-11-25 15:00") // after the staging slot of that day
	r := Rotation{Members: []string{"A", "B", "C"}, Since: since}
	var got []string
	for _, slot := range s.Upcoming(since, 7) {
		u, ok := r.Assignee(s, slot)
		if !ok {
			t.Fatalf("no assignee for %s", slot.ID())
		}
		got = append(got, string(slot.ID())+"="+u)
	}
	want := []string{"dev-2026-12-01=A", "dev-2026-12-08=B", "staging-2026-12-09=C", "dev-2026-12-15=A",
		"dev-2026-12-22=B", "staging-2026-12-23=C", "dev-2026-12-29=A"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A later query gives the same answer for the same slot: n counts from Since, not from now.
	if u, _ := r.Assignee(s, Slot{Dev, utc("2026-12-15 14:00")}); u != "A" {
		t.Errorf("dev-2026-12-15 = %s, want A", u)
	}
	if _, ok := r.Assignee(s, Slot{Dev, utc("2026-11-24 14:00")}); ok {
		t.Error("a slot before the rotation was set has no assignee")
	}
	if _, ok := (Rotation{}).Assignee(s, Slot{Dev, utc("2026-12-01 14:00")}); ok {
		t.Error("an empty rotation assigns nobody")
	}
	r.Overrides = map[TrainID]string{"dev-2026-12-08": "Z"}
	if u, _ := r.Assignee(s, Slot{Dev, utc("2026-12-08 14:00")}); u != "Z" {
		t.Errorf("override ignored: %s", u)
	}
	if u, _ := r.Assignee(s, Slot{Staging, utc("2026-12-09 14:00")}); u != "C" {
		t.Errorf("an override must not shift the others: %s", u)
	}
}

func TestRotationSwap(t *testing.T) {
	t.Parallel()
	s := defaultSchedule()
	since := utc("2026-11-25 15:00")
	r := Rotation{Members: []string{"A", "B", "C"}, Since: since}
	swapped, err := r.Swap(s, since, "A", "C")
	if err != nil {
		t.Fatal(err)
	}
	want := []Assignment{
		{Slot: Slot{Dev, utc("2026-12-01 14:00")}, User: "C", Override: true},
		{Slot: Slot{Staging, utc("2026-12-09 14:00")}, User: "A", Override: true},
	}
	if diff := cmp.Diff(want, swapped); diff != "" {
		t.Errorf("swapped in time order (-want +got):\n%s", diff)
	}
	r.Overrides = map[TrainID]string{}
	for _, a := range swapped {
		r.Overrides[a.Slot.ID()] = a.User
	}
	if u, _ := r.Assignee(s, Slot{Dev, utc("2026-12-01 14:00")}); u != "C" {
		t.Errorf("after swap dev-2026-12-01 = %s", u)
	}
	var ue *UserError
	if _, err := r.Swap(s, since, "A", "A"); !errors.As(err, &ue) || ue.Text[1] != U("A") {
		t.Errorf("swapping with oneself: %v, want a refusal mentioning A as data", err)
	}
	if _, err := r.Swap(s, since, "A", "Nobody"); err == nil {
		t.Error("swapping with someone not on the rotation accepted")
	}
	if slot, ok := r.NextTrainOf(s, since, "B", 8); !ok || slot.ID() != "dev-2026-12-08" {
		t.Errorf("NextTrainOf(B) = %v, %v", slot.ID(), ok)
	}
}
