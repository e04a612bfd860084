package trains

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkYearOfSlots: the next 52 weeks of slots with 10 quiet windows,
// each decided (run, postpone or skip) as the scheduler and calendar do.
func BenchmarkYearOfSlots(b *testing.B) {
	s := defaultSchedule()
	now := utc("2026-11-25 15:00")
	var ws []Window
	for i := range 10 {
		from := now.Add(time.Duration(i*31) * 24 * time.Hour)
		ws = append(ws, Window{ID: fmt.Sprint(i), From: from, Until: from.Add(30 * time.Hour), Reason: "w"})
	}
	b.ReportAllocs()
	for b.Loop() {
		slots := s.Between(now, now.AddDate(0, 0, 52*7))
		for _, slot := range slots {
			next, _ := s.After(slot.Track, slot.At)
			_ = Decide(slot, next.At, ws)
		}
		if len(slots) != 78 {
			b.Fatalf("%d slots in 52 weeks, want 78", len(slots))
		}
	}
}

// BenchmarkNextTag: the next dev, staging and hotfix tags among 10,000 tags.
func BenchmarkNextTag(b *testing.B) {
	var rts []RepoTag
	for i := range 10000 {
		tr := Tracks[i%3]
		rts = append(rts, RepoTag{Name: fmt.Sprintf("v0.%d.0-%s.%d", i/300, tr, i%300+1), Commit: fmt.Sprint(i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		tags := TrainTags(rts)
		line := CurrentLine(tags, Line{0, 1, 0}, Line{})
		dev := NextDevTag(tags, line)
		if _, err := NextStagingTag(tags, dev); err != nil {
			b.Fatal(err)
		}
		if _, err := NextHotfixTag(tags); err != nil {
			b.Fatal(err)
		}
	}
}
