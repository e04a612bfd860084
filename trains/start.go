package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// This file holds how every train starts, a dev or staging cut and a
// hotfix alike: announced first (never an unmonitored train), then
// recorded, audited and launched under its track's lock.

// Outcome says how a cut — of a dev, staging or hotfix train — went.
type Outcome int

// The outcomes of a cut. A hotfix ends in CutStarted, CutPreview, CutBusy
// or CutExtraCommits.
const (
	// CutStarted: the train is recorded, announced and on its way.
	CutStarted Outcome = iota
	// CutPreview: a dry run; nothing changed.
	CutPreview
	// CutPaused: a quiet window holds trains.
	CutPaused
	// CutBusy: another cut of the track holds its lock.
	CutBusy
	// CutNothing: nothing to ship.
	CutNothing
	// CutNeedsSignOff: staging lacks validator approvals.
	CutNeedsSignOff
	// CutMissingHotfixes: the staging candidate lacks hotfixes made since the last staging tag.
	CutMissingHotfixes
	// CutRunning: the track's train is already on its way; it continues.
	CutRunning
	// CutExtraCommits: a hotfix commit ships more than the fix — commits
	// not yet in staging, or it lacks some of the staging tag's — and
	// was not forced; nothing was done.
	CutExtraCommits
)

// starting is a train about to start: what startTrain needs besides it.
type starting struct {
	// plan is what the announcement shows (zero for a hotfix).
	plan Plan
	// lease is the track's lock, held; the launched train keeps it.
	lease Lease
	// words name the kind of start in messages.
	words startWords
	// by and action are the audit entry's user and action; detail its
	// text, given the train as recorded.
	by, action string
	detail     func(Train) string
	// save records the announced train.
	save func(context.Context, Train) (Train, error)
}

// startWords name a kind of start in what is said when it fails.
type startWords struct {
	noun    string // "cut": "this cut was not recorded"
	subject string // "train": "train dev-2026-12-02 was recorded"
	done    string // "cut": "so it may have been cut"
	again   string // "cutting again"
	// first is the train's first step: "nothing was tagged"; before and
	// after say around its tag what it does by itself once recorded:
	// "trainbot tags v… and deploys it".
	first, before, after string
}

var (
	cutWords    = startWords{noun: "cut", subject: "train", done: "cut", again: "cutting again", first: "tagged", before: "tags ", after: " and deploys it"}
	hotfixWords = startWords{noun: "hotfix", subject: "hotfix", done: "made", again: "trying again", first: "tagged", before: "tags ", after: " and deploys it"}
)

// startTrain announces t, records it, audits it and launches it under
// st.lease, returning it as recorded. Nothing is tagged before the train is
// recorded: when the announcement or the record fails, the train does not
// start, the thread says why, and the caller gives the lock back. A record
// the store did not confirm is an *UnclearError: the train may have been
// recorded, and then the scheduler's resumer continues it.
func (s *Service) startTrain(ctx context.Context, t Train, st starting) (Train, error) {
	w := st.words
	ref, err := s.ann.Post(ctx, s.cutMessage(t, st.plan))
	if err != nil {
		return t, fmt.Errorf("announce the %s in the channel (nothing was %s): %w", w.noun, w.first, err)
	}
	t.Message = ref
	saved, err := st.save(ctx, t)
	if errors.Is(err, ErrUnclear) {
		s.log.Warn("the store did not confirm the "+w.noun+" was recorded; if it was, the resumer continues it", "train", string(t.ID), "tag", t.Tag, "err", err)
		s.replyQuiet(ctx, ref, Say(T("⚠️ The state store did not confirm that this "+w.noun+" was recorded, so it may have been. If it was, trainbot "+w.before),
			C(t.Tag), T(w.after+" by itself within a minute; if it was not, nothing more happens.")))
		return t, &UnclearError{Err: fmt.Errorf("record %s %s: %w", w.subject, t.ID, err), Text: Text{
			T("⚠️ The state store did not confirm that " + w.subject + " " + string(t.ID) + " was recorded, so it may have been " + w.done + ". If it was, trainbot " + w.before),
			C(t.Tag), T(w.after + " by itself within a minute; if it was not, nothing more happens. Check "), C("/train history"),
			T(" before " + w.again + ".")}}
	}
	if err != nil {
		s.replyQuiet(ctx, ref, Say(T("⚠️ This "+w.noun+" was not recorded, so nothing was "+w.first+": "), T(err.Error())))
		return t, fmt.Errorf("record %s %s (nothing was %s): %w", w.subject, t.ID, w.first, err)
	}
	t = saved
	s.audit(ctx, st.by, st.action, t.ID, st.detail(t), nil)
	s.launch(ctx, t, st.lease)
	return t, nil
}

// dayIDs walks the ids of track's trains of now's day in order until the
// first free one, which it returns; with stopAtOpen, it stops before at the
// first train that has not ended, and returns it (hasOpen).
func (s *Service) dayIDs(ctx context.Context, track Track, now time.Time, stopAtOpen bool) (free TrainID, open Train, hasOpen bool, err error) {
	for n := 1; n <= 99; n++ {
		id := NewTrainID(track, now, n)
		t, err := s.store.GetTrain(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return id, Train{}, false, nil
		case err != nil:
			return "", Train{}, false, err
		case stopAtOpen && !t.State.Final():
			return "", t, true, nil
		}
	}
	return "", Train{}, false, userErr("99 %s trains today is the limit: that many in a day is surely a mistake", track)
}
