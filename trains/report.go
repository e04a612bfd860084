package trains

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// StartLine starts a new line (`/train line X.Y.Z`): the next dev tag is
// on it. It must be greater than the current line.
func (s *Service) StartLine(ctx context.Context, by string, l Line) (Line, error) {
	if err := s.authorize(ctx, by, "line", "", anyRole(Releaser)); err != nil {
		return Line{}, err
	}
	tags, err := s.planTags(ctx)
	if err != nil {
		return Line{}, err
	}
	started, err := s.store.StartedLine(ctx)
	if err != nil {
		return Line{}, err
	}
	cur := CurrentLine(tags, s.cfg.InitialLine, started)
	if err := ValidateNewLine(cur, l); err != nil {
		s.audit(ctx, by, "line", "", l.String(), userErr("%v", err))
		return cur, userErr("%v", err)
	}
	if err := s.store.SetStartedLine(ctx, l); err != nil {
		return cur, err
	}
	s.audit(ctx, by, "line", "", cur.String()+" → "+l.String(), nil)
	return cur, nil
}

// Changes are the commits a train tag shipped.
type Changes struct {
	Tag TrainTag
	// Previous is the previous tag of its track; zero for the first.
	Previous TrainTag
	// Comparison holds the commits since Previous; for the first tag of
	// its track, the history up to the tag, at most MaxChangesFromStart
	// commits (Total counts those listed; More says older ones exist).
	Comparison Comparison
	More       bool
	// Train is the train that made the tag; zero when trainbot did not
	// (a tag made by hand, or before trainbot).
	Train Train
}

// MaxChangesFromStart caps the commits listed for the first tag of a
// track: the newest of its history.
const MaxChangesFromStart = 100

// Changes lists the commits in a train tag: those since the previous tag
// of its track (`/train changes <tag>`).
func (s *Service) Changes(ctx context.Context, name string) (Changes, error) {
	tag, err := ParseTag(name)
	if err != nil {
		return Changes{}, userErr("%q is not a train tag: write it as v<X.Y.Z>-<dev|staging|hotfix>.<N>, e.g. v0.5.0-staging.1", name)
	}
	tags, err := s.allTags(ctx)
	if err != nil {
		return Changes{}, err
	}
	var ch Changes
	found := false
	for _, t := range tags {
		switch {
		case t.Tag == tag:
			ch.Tag, found = t, true
		case t.Track == tag.Track && t.Compare(tag) < 0 && (ch.Previous.IsZero() || t.Compare(ch.Previous.Tag) > 0):
			ch.Previous = t
		}
	}
	if !found {
		return ch, userErr("%s has no tag %s", s.cfg.Repo, name)
	}
	if ch.Train, err = s.trainOf(ctx, ch.Tag); err != nil {
		return ch, err
	}
	if ch.Previous.IsZero() {
		cs, more, err := s.repo.Log(ctx, ch.Tag.Commit, MaxChangesFromStart)
		if err != nil {
			return ch, fmt.Errorf("list the history up to %s: %w", tag, err)
		}
		slices.Reverse(cs) // oldest first, as a comparison lists them
		ch.Comparison, ch.More = Comparison{Commits: cs, Total: len(cs)}, more
		return ch, nil
	}
	if ch.Comparison, err = s.repo.Compare(ctx, ch.Previous.Commit, ch.Tag.Commit); err != nil {
		return ch, fmt.Errorf("compare %s with %s: %w", ch.Previous.Tag, tag, err)
	}
	return ch, nil
}

// trainOf finds the train that made tag t among the trains of the days
// around its date; zero when none did or its date is unknown.
func (s *Service) trainOf(ctx context.Context, t TrainTag) (Train, error) {
	if t.Date.IsZero() {
		return Train{}, nil
	}
	day := 24 * time.Hour
	ts, err := s.store.ListTrains(ctx, TrainQuery{From: t.Date.Add(-15 * day), To: t.Date.Add(day)})
	if err != nil {
		return Train{}, err
	}
	for _, tr := range ts {
		if tr.Tag == t.String() {
			return tr, nil
		}
	}
	return Train{}, nil
}

// History returns the newest n trains, newest first.
func (s *Service) History(ctx context.Context, n int) ([]Train, error) {
	ts, err := s.store.ListTrains(ctx, TrainQuery{Newest: n})
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(ts)-1; i < j; i, j = i+1, j-1 {
		ts[i], ts[j] = ts[j], ts[i]
	}
	return ts, nil
}

// Stats computes the RFC's success metrics over the last period.
func (s *Service) Stats(ctx context.Context, period time.Duration) (Stats, error) {
	now := s.clock.Now().Add(time.Nanosecond) // up to and including now
	from := now.Add(-period)
	ds, err := s.store.Deploys(ctx, from, now)
	if err != nil {
		return Stats{}, err
	}
	// Postponed trains are listed by their new time, which may be later.
	ts, err := s.store.ListTrains(ctx, TrainQuery{From: from, To: now.Add(MaxDuration)})
	if err != nil {
		return Stats{}, err
	}
	return ComputeStats(from, now, ds, ts), nil
}

// CalendarOptions say how much a calendar shows.
type CalendarOptions struct {
	// Count is how many trains to list (4 when zero).
	Count int
	// Candidates asks the repository what the next trains would ship.
	Candidates bool
}

// Calendar builds the calendar from the settings and the stored state.
func (s *Service) Calendar(ctx context.Context, o CalendarOptions) (Calendar, error) {
	now := s.clock.Now()
	st, err := ReadCalendarState(ctx, s.store, now, TrainQuery{From: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		return Calendar{}, err
	}
	in := CalendarInput{Now: now, Schedule: s.cfg.Schedule, Rotation: st.Rotation, Windows: st.Windows, Trains: st.Trains, Count: o.Count}
	if o.Candidates {
		in.Candidates = map[Track]string{}
		tags, err := s.planTags(ctx)
		if err != nil {
			return Calendar{}, err
		}
		for _, tr := range []Track{Dev, Staging} {
			slot, _ := s.cfg.Schedule.Next(tr, now)
			p, err := s.planWith(ctx, slices.Clone(tags), tr, slot.At)
			if err != nil {
				return Calendar{}, err
			}
			if !p.Tag.IsZero() {
				in.Candidates[tr] = p.Tag.String()
			}
		}
	}
	return BuildCalendar(in), nil
}

// AuditLog returns the newest n audit entries, of one train when train is not empty.
func (s *Service) AuditLog(ctx context.Context, train TrainID, n int) ([]AuditEntry, error) {
	return s.store.AuditLog(ctx, train, n)
}
