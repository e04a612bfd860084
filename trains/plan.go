package trains

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Plan is what a train of a track would ship now: the tag it would make,
// on which commit, and what changed since the previous tag of its track.
type Plan struct {
	Track Track
	// Tag is the tag the train would make; zero when there is nothing to ship.
	Tag    Tag
	Commit Commit
	// Previous is the previous tag of the track, empty for the first.
	Previous   string
	Comparison Comparison
	// Promotes is the dev tag a staging train promotes.
	Promotes TrainTag
	// Nothing says why there is nothing to ship; empty when there is something.
	Nothing string
	// Missing are the hotfixes a staging candidate does not contain.
	Missing []TrainTag
	Inputs  map[string]string
}

// plan works out what a dev or staging train would ship at now.
func (s *Service) plan(ctx context.Context, track Track, now time.Time) (Plan, error) {
	tags, err := s.planTags(ctx)
	if err != nil {
		return Plan{Track: track, Inputs: track.WorkflowInputs()}, err
	}
	return s.planWith(ctx, tags, track, now)
}

// planWith is plan on train tags already listed, so that a command making
// several plans lists them once. It fills in dates of tags, so each call
// needs its own copy of the listing.
func (s *Service) planWith(ctx context.Context, tags []TrainTag, track Track, now time.Time) (Plan, error) {
	var err error
	p := Plan{Track: track, Inputs: track.WorkflowInputs()}
	switch track {
	case Dev:
		head, err := s.repo.Head(ctx)
		if err != nil {
			return p, fmt.Errorf("read the release branch: %w", err)
		}
		p.Commit = head
		last, ok := Newest(tags, Dev)
		if ok && last.Commit == head.SHA {
			p.Nothing = fmt.Sprintf("the release branch is still at %s, which %s already shipped", ShortSHA(head.SHA), last.Tag)
			return p, nil
		}
		started, err := s.store.StartedLine(ctx)
		if err != nil {
			return p, err
		}
		p.Tag = NextDevTag(tags, CurrentLine(tags, s.cfg.InitialLine, started))
		if ok {
			p.Previous = last.String()
			if p.Comparison, err = s.repo.Compare(ctx, last.Commit, head.SHA); err != nil {
				return p, fmt.Errorf("compare %s with the release branch: %w", last.Tag, err)
			}
			if onlyCalendarCommits(p.Comparison) {
				p.Nothing = fmt.Sprintf("since %s the release branch has only trainbot's calendar commits", last.Tag)
				return p, nil
			}
		}
	case Staging:
		if err := s.fillDates(ctx, tags); err != nil {
			return p, err
		}
		cand, ok := StagingCandidate(tags, now, s.cfg.Soak)
		if !ok {
			p.Nothing = fmt.Sprintf("no dev tag newer than the last staging tag has soaked %s yet", s.cfg.Soak)
			return p, nil
		}
		p.Promotes = cand
		if p.Tag, err = NextStagingTag(tags, cand.Tag); err != nil {
			return p, err
		}
		if p.Commit, err = s.repo.Commit(ctx, cand.Commit); err != nil {
			return p, fmt.Errorf("read commit %s of %s: %w", ShortSHA(cand.Commit), cand.Tag, err)
		}
		if p.Missing, err = MissingHotfixes(ctx, tags, cand.Commit, s.repo); err != nil {
			return p, err
		}
		if last, ok := Newest(tags, Staging); ok {
			p.Previous = last.String()
			if p.Comparison, err = s.repo.Compare(ctx, last.Commit, cand.Commit); err != nil {
				return p, fmt.Errorf("compare %s with %s: %w", last.Tag, cand.Tag, err)
			}
		}
	default:
		return p, fmt.Errorf("a %s train is not planned: it is made on demand", track)
	}
	return p, nil
}

// fillDates looks up the dates a staging plan needs and the listing did not
// give: of dev tags newer than the last staging tag's, and of hotfix tags.
func (s *Service) fillDates(ctx context.Context, tags []TrainTag) error {
	last, hasStaging := Newest(tags, Staging)
	for i := range tags {
		t := &tags[i]
		if !t.Date.IsZero() || t.Track == Staging {
			continue
		}
		if hasStaging && t.Track == Dev && t.Line.Less(last.Line) {
			continue // on an older line than staging: never a candidate
		}
		d, err := s.repo.TagDate(ctx, t.String())
		if err != nil {
			return fmt.Errorf("read the date of %s: %w", t.Tag, err)
		}
		t.Date = d
	}
	return nil
}

// canSignOff lists the validators who could still approve a train: not the
// cutter, not already counted.
func (s *Service) canSignOff(ctx context.Context, cutter string, counted []string) ([]string, error) {
	vs, err := s.roles.Members(ctx, Validator)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(vs, func(v string) bool { return v == cutter || slices.Contains(counted, v) }), nil
}

// signOff checks the approvals of train id against the two-person rule,
// counting only those given for candidate c (SPEC §2). It returns the
// validators counted and their approvals (the cut uses them up).
func (s *Service) signOff(ctx context.Context, id TrainID, c Candidate, cutter string) ([]string, []SignOffRecord, error) {
	recs, err := s.store.SignOffs(ctx, id, Approval)
	if err != nil {
		return nil, nil, err
	}
	current, stale := splitApprovals(recs, c)
	users := make([]string, len(current))
	for i, r := range current {
		users[i] = r.User
	}
	var lookupErr error
	isValidator := func(u string) bool {
		ok, err := s.roles.Has(ctx, u, Validator)
		if err != nil && lookupErr == nil {
			lookupErr = err
		}
		return ok
	}
	counted, err := SignOff(users, cutter, isValidator, s.cfg.StagingApprovals)
	if lookupErr != nil {
		if errors.Is(lookupErr, ErrRoleUnknown) {
			return nil, nil, userErr("trainbot cannot check who is a validator right now (%v), so it cannot count the approvals; nothing was cut. Try again in a few minutes", lookupErr)
		}
		return nil, nil, fmt.Errorf("check who is a validator: %w", lookupErr)
	}
	var se *SignOffError
	if errors.As(err, &se) {
		for _, r := range stale {
			if _, counted := se.Ignored[r.User]; !counted && !slices.Contains(se.Counted, r.User) {
				se.Ignored[r.User] = "approved an earlier candidate, " + candidateName(r.Promotes, r.Commit, r.Without) + ", which no longer counts"
			}
		}
	}
	var used []SignOffRecord
	for _, r := range current {
		if slices.Contains(counted, r.User) {
			used = append(used, r)
		}
	}
	return counted, used, err
}
