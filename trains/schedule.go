package trains

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SlotTime is a weekday and a UTC time of day, as in TRAINBOT_DEV_SLOT="Tue 14:00".
type SlotTime struct {
	Weekday time.Weekday
	Hour    int
	Minute  int
}

var slotRe = regexp.MustCompile(`^([A-Za-z]+)\s+(\d{1,2}):(\d{2})$`)

// ParseSlotTime parses "<weekday> HH:MM" (UTC). The weekday may be written
// in full or as its first three letters, in any case: "Tue 14:00", "tuesday 9:30".
func ParseSlotTime(s string) (SlotTime, error) {
	bad := fmt.Errorf("%q is not \"<weekday> HH:MM\" (UTC), e.g. \"Tue 14:00\"", s)
	m := slotRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return SlotTime{}, bad
	}
	day, ok := parseWeekday(m[1])
	if !ok {
		return SlotTime{}, bad
	}
	h, _ := strconv.Atoi(m[2])
	mi, _ := strconv.Atoi(m[3])
	if h > 23 || mi > 59 {
		return SlotTime{}, bad
	}
	return SlotTime{Weekday: day, Hour: h, Minute: mi}, nil
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

// String formats the slot time as "Tue 14:00".
func (s SlotTime) String() string {
	return fmt.Sprintf("%s %02d:%02d", s.Weekday.String()[:3], s.Hour, s.Minute)
}

// offset is the time of day as a duration after midnight.
func (s SlotTime) offset() time.Duration {
	return time.Duration(s.Hour)*time.Hour + time.Duration(s.Minute)*time.Minute
}

// Slot is one scheduled train: a track and the UTC time it leaves.
type Slot struct {
	Track Track
	At    time.Time
}

// ID is the slot's stable train id, e.g. dev-2026-12-01.
func (s Slot) ID() TrainID { return NewTrainID(s.Track, s.At, 1) }

// Schedule holds when the scheduled tracks run (SPEC §1): dev every week on
// Dev, staging every other week on Staging, in the weeks of StagingAnchor.
type Schedule struct {
	Dev     SlotTime
	Staging SlotTime
	// StagingAnchor is a date (any time of day; only the UTC date counts) on
	// which a staging train runs. Staging runs every 14 days from it, in
	// either direction.
	StagingAnchor time.Time
}

// Validate checks that the anchor falls on the staging weekday.
func (s Schedule) Validate() error {
	if d := s.StagingAnchor.UTC().Weekday(); d != s.Staging.Weekday {
		return fmt.Errorf("staging anchor %s is a %s, but staging trains run on %s",
			s.StagingAnchor.UTC().Format(time.DateOnly), d, s.Staging.Weekday)
	}
	return nil
}

const day = 24 * 60 * 60 // seconds

// cadence is an arithmetic sequence of instants: phase + k·period seconds.
type cadence struct {
	phase  int64 // unix seconds of one occurrence
	period int64 // seconds
}

func (s Schedule) cadence(track Track) (cadence, bool) {
	switch track {
	case Dev:
		// 1970-01-04 was a Sunday.
		sunday := time.Date(1970, 1, 4, 0, 0, 0, 0, time.UTC)
		first := sunday.AddDate(0, 0, int(s.Dev.Weekday)).Add(s.Dev.offset())
		return cadence{first.Unix(), 7 * day}, true
	case Staging:
		a := s.StagingAnchor.UTC()
		first := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC).Add(s.Staging.offset())
		return cadence{first.Unix(), 14 * day}, true
	}
	return cadence{}, false
}

// index is the k of the first occurrence at or after t.
func (c cadence) index(t time.Time) int64 {
	secs := t.Unix() - c.phase // Unix floors, and Nanosecond is the rest
	q := secs / c.period
	if secs%c.period < 0 {
		q-- // floor division
	}
	if q*c.period == secs && t.Nanosecond() == 0 {
		return q
	}
	return q + 1
}

func (c cadence) at(k int64) time.Time { return time.Unix(c.phase+k*c.period, 0).UTC() }

// Next returns the first slot of track at or after t. It returns false for
// a track that has no schedule (hotfix).
func (s Schedule) Next(track Track, t time.Time) (Slot, bool) {
	c, ok := s.cadence(track)
	if !ok {
		return Slot{}, false
	}
	return Slot{Track: track, At: c.at(c.index(t))}, true
}

// After returns the first slot of track strictly after t.
func (s Schedule) After(track Track, t time.Time) (Slot, bool) {
	return s.Next(track, t.Add(time.Nanosecond))
}

// Slots returns the first n slots of track at or after t.
func (s Schedule) Slots(track Track, t time.Time, n int) []Slot {
	c, ok := s.cadence(track)
	if !ok || n <= 0 {
		return nil
	}
	k := c.index(t)
	out := make([]Slot, n)
	for i := range out {
		out[i] = Slot{Track: track, At: c.at(k + int64(i))}
	}
	return out
}

// Upcoming returns the first n slots of all scheduled tracks at or after t,
// in time order (dev before staging at the same instant).
func (s Schedule) Upcoming(t time.Time, n int) []Slot {
	all := append(s.Slots(Dev, t, n), s.Slots(Staging, t, n)...)
	slices.SortStableFunc(all, compareSlots)
	return all[:min(n, len(all))]
}

// Between returns every slot of the scheduled tracks in [from, to), in time order.
func (s Schedule) Between(from, to time.Time) []Slot {
	var out []Slot
	for _, tr := range []Track{Dev, Staging} {
		c, _ := s.cadence(tr)
		for k := c.index(from); c.at(k).Before(to); k++ {
			out = append(out, Slot{Track: tr, At: c.at(k)})
		}
	}
	slices.SortStableFunc(out, compareSlots)
	return out
}

// Count returns how many slots of the scheduled tracks fall in [from, to),
// counting a staging slot at the same instant as a dev slot after it.
func (s Schedule) Count(from, to time.Time) int64 {
	if !from.Before(to) {
		return 0
	}
	var n int64
	for _, tr := range []Track{Dev, Staging} {
		c, _ := s.cadence(tr)
		n += c.index(to) - c.index(from)
	}
	return n
}

// ordinal returns the position of slot among all scheduled slots since
// since: 0 for the first slot at or after since.
func (s Schedule) ordinal(since time.Time, slot Slot) int64 {
	n := s.Count(since, slot.At)
	if slot.Track == Staging && !slot.At.Before(since) {
		if d, ok := s.Next(Dev, slot.At); ok && d.At.Equal(slot.At) {
			n++ // dev first at the same instant
		}
	}
	return n
}

func compareSlots(a, b Slot) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return trackOrder(a.Track) - trackOrder(b.Track)
}

func trackOrder(t Track) int { return slices.Index(Tracks, t) }
