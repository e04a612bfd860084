package trains

import (
	"context"
	"errors"
	"slices"
	"time"
)

// This file finds the train a user, a button or the scheduler names. A
// train's id is fixed when its slot is first known; a postponement moves
// its time, never its id (SPEC §4). So a train is always looked up by its
// id, and a slot's id is taken from the slot's own time, never from a
// train's (possibly postponed) time.

// Horizon is how far ahead a train may be named by the id of its slot
// before it is stored (SPEC §4).
const Horizon = 90 * 24 * time.Hour

// resolveTrain returns the train ref names (SPEC §4): next, next-dev,
// next-staging, or an id such as dev-2026-12-01. A stored train is
// returned as stored. An id not stored yet names the train of its track's
// slot on that day, when that slot lies within the coming Horizon; that
// train is returned new (Version 0, not stored). Anything else is refused
// with a *UserError: an id that was never a train, a day its track does
// not run, a slot that has passed, a slot too far ahead.
func (s *Service) resolveTrain(ctx context.Context, ref string) (Train, error) {
	switch ref {
	case "next":
		return s.nextTrain(ctx, Dev, Staging)
	case "next-dev":
		return s.nextTrain(ctx, Dev)
	case "next-staging":
		return s.nextTrain(ctx, Staging)
	}
	id, track, day, err := ParseTrainID(ref)
	if err != nil {
		return Train{}, userErr("%v; or write next, next-dev or next-staging", err)
	}
	t, err := s.store.GetTrain(ctx, id)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Train{}, err
	}
	if !track.Scheduled() || id != NewTrainID(track, day, 1) {
		return Train{}, userErr("there is no train %s: see `/train history` for the trains there were", id)
	}
	slot, _ := s.cfg.Schedule.Next(track, day)
	if !sameDay(slot.At, day) {
		return Train{}, userErr("there is no %s train on %s: %s trains run %s", track, day.Format(time.DateOnly), track, s.slotTime(track))
	}
	now := s.clock.Now()
	switch {
	case slot.At.Before(now):
		return Train{}, userErr("%s has passed and was never a train: see `/train history` for the trains there were", id)
	case slot.At.After(now.Add(Horizon)):
		return Train{}, userErr("%s is more than %d days ahead: name a train of the coming %d days (`/train calendar` lists the next ones)",
			id, Horizon/(24*time.Hour), Horizon/(24*time.Hour))
	}
	return s.slotTrain(ctx, slot)
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Truncate(24 * time.Hour).Equal(b.UTC().Truncate(24 * time.Hour))
}

func (s *Service) slotTime(track Track) string {
	if track == Staging {
		return "every other " + s.cfg.Schedule.Staging.String()
	}
	return "every " + s.cfg.Schedule.Dev.String()
}

// nextTrain returns the first coming train of tracks: a stored train still
// waiting (scheduled, announced, confirmed but not cut, or postponed —
// whatever its time now is), or the train of the next slot that has not
// ended. It looks at most a few slots ahead per track (a slot skipped in
// advance is passed over).
func (s *Service) nextTrain(ctx context.Context, tracks ...Track) (Train, error) {
	now := s.clock.Now()
	open, err := s.store.OpenTrains(ctx)
	if err != nil {
		return Train{}, err
	}
	var best Train
	found := false
	consider := func(t Train) {
		if !found || t.At.Before(best.At) || (t.At.Equal(best.At) && trackOrder(t.Track) < trackOrder(best.Track)) {
			best, found = t, true
		}
	}
	for _, t := range open {
		if t.waiting() && slices.Contains(tracks, t.Track) && !t.At.Before(now.Add(-s.cfg.SlotGrace)) {
			consider(t)
		}
	}
	for _, tr := range tracks {
		for _, slot := range s.cfg.Schedule.Slots(tr, now, 4) {
			t, err := s.slotTrainFor(ctx, slot)
			if err != nil {
				return Train{}, err
			}
			if t.waiting() {
				consider(t)
				break
			}
		}
	}
	if !found {
		return Train{}, userErr("no %s train is coming in the next four slots", tracksText(tracks))
	}
	return best, nil
}

// waiting reports whether a scheduled train has not left yet and can be
// confirmed, skipped, approved or given an on-call.
func (t Train) waiting() bool {
	return t.Track.Scheduled() && !t.OffSchedule && !t.State.Final() && !t.inFlight()
}

func tracksText(ts []Track) string {
	if len(ts) == 1 {
		return string(ts[0])
	}
	return "scheduled"
}

// slotTrainFor returns the stored train of slot, or a new one (Version 0,
// not stored) when the slot has none yet. The slot's id comes from the
// slot's own time, which is the train's original time.
func (s *Service) slotTrainFor(ctx context.Context, slot Slot) (Train, error) {
	t, err := s.store.GetTrain(ctx, slot.ID())
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Train{}, err
	}
	return s.slotTrain(ctx, slot)
}

// slotTrain returns a new train (Version 0, not stored) for slot, with the
// rotation's on-call.
func (s *Service) slotTrain(ctx context.Context, slot Slot) (Train, error) {
	now := s.clock.Now()
	t := Train{ID: slot.ID(), Track: slot.Track, At: slot.At, State: Scheduled, Created: now, Updated: now}
	if r, err := s.store.Rotation(ctx); err == nil {
		t.OnCall, _ = r.Assignee(s.cfg.Schedule, slot)
	} else if !errors.Is(err, ErrNotFound) {
		return Train{}, err
	}
	return t, nil
}

// save stores t: creates it when new (Version 0), else compare-and-sets it.
func (s *Service) save(ctx context.Context, t Train, fence Fence) (Train, error) {
	if t.Version == 0 {
		return s.store.CreateTrain(ctx, t)
	}
	return s.store.UpdateTrain(ctx, t, fence)
}
