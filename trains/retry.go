package trains

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// This file retries a failed train's deploy (issue 13): the Retry deploy
// button of a failure announcement, or `/train retry <train>`. A retry
// moves the train from Failed back to Deploying — the one way out of a
// final state — keeping the failed run as an Attempt, and launches it under
// its track's lock like a cut: the deploy step dispatches again on the same
// tag and follows the new run in the same thread. A crash after the retry
// is stored resumes like a cut (the resumer continues a Deploying train).

// Attempt is one deploy run of a train that a retry replaced: its run, when
// it was dispatched and by whom, how it ended, and who retried it.
type Attempt struct {
	// N numbers the train's attempts from 1.
	N            int       `json:"n"`
	RunID        int64     `json:"run_id,omitempty"`
	URL          string    `json:"url,omitempty"`
	DispatchedAt time.Time `json:"dispatched_at,omitzero"`
	// By is who started the attempt: the train's cutter for the first,
	// whoever retried for the others.
	By string `json:"by,omitempty"`
	// Outcome is why it failed (the train's Error then).
	Outcome   string    `json:"outcome,omitempty"`
	RetriedBy string    `json:"retried_by,omitempty"`
	RetriedAt time.Time `json:"retried_at,omitzero"`
}

// Attempt is the number of the train's current deploy attempt, from 1.
func (t Train) Attempt() int { return len(t.Attempts) + 1 }

// attemptBy is who started the current deploy attempt.
func (t Train) attemptBy() string {
	if n := len(t.Attempts); n > 0 {
		return t.Attempts[n-1].RetriedBy
	}
	return t.CutBy
}

// attempted reports whether run id is one of the train's earlier attempts,
// or a run on its tag made before the train (EarlierRun).
func (t Train) attempted(id int64) bool {
	if id != 0 && id <= t.EarlierRun {
		return true
	}
	for _, a := range t.Attempts {
		if a.RunID != 0 && a.RunID == id {
			return true
		}
	}
	return false
}

// Retriable reports whether a retry may deploy the train again: it failed
// in its deploy step (a deploy was dispatched), so its tag exists and was
// published. A train that failed earlier (its tag refused, its publish run
// failed) is not: that needs a new cut.
func (t Train) Retriable() bool {
	return t.State == Failed && (!t.DispatchedAt.IsZero() || t.DeployRunID != 0)
}

// RetryRequest asks to retry a failed train's deploy.
type RetryRequest struct {
	// Train names it: an id such as staging-2026-12-02.
	Train string
	By    string
}

// RetryOutcome says how a retry went.
type RetryOutcome int

// The outcomes of a retry.
const (
	// RetryStarted: the train deploys its tag again; Train is it as stored.
	RetryStarted RetryOutcome = iota
	// RetryAlready: this failure was already retried (a second click): nothing was done.
	RetryAlready
	// RetryBusy: another train of the track holds its lock: nothing was done.
	RetryBusy
)

// RetryResult is what a retry did.
type RetryResult struct {
	Outcome RetryOutcome
	Train   Train
}

// retryClaimTTL is how long a retry's key is kept: a second click on the
// same failure within it is a no-op. Once the retry is recorded the train
// is no longer failed, which refuses later clicks; so the key need only
// outlive two clicks at once, and a process that died between the key and
// the record holds the retry back for no longer than this. A later click
// on the button of the same announcement retries the failure it then
// shows.
const retryClaimTTL = 2 * time.Minute

// Retry dispatches a failed train's deploy again on the same tag (issue
// 13), once per failure: the retry is keyed by the train and its attempt
// number, so two quick clicks make one dispatch and the second is told so.
// Releasers or the train's on-call may retry. A train of the track that
// came after it is not overridden: the retry is refused.
func (s *Service) Retry(ctx context.Context, req RetryRequest) (RetryResult, error) {
	t, err := s.resolveTrain(ctx, req.Train)
	if err != nil {
		return RetryResult{}, err
	}
	p := anyRole(Releaser)
	p.onCall, p.who = t.OnCall, "releasers or the train's on-call"
	if err := s.authorize(ctx, req.By, "retry", t.ID, p); err != nil {
		return RetryResult{}, err
	}
	if err := s.retriable(ctx, t); err != nil {
		s.audit(ctx, req.By, "retry", t.ID, t.Tag, err)
		return RetryResult{Train: t}, err
	}
	n := t.Attempt()
	key := fmt.Sprintf("retry:%s:%d", t.ID, n)
	ok, err := s.store.Claim(ctx, key, retryClaimTTL)
	if err != nil {
		return RetryResult{}, err
	}
	if !ok {
		s.audit(ctx, req.By, "retry", t.ID, t.Tag, userErr("attempt %d was already retried", n))
		return RetryResult{Outcome: RetryAlready, Train: t}, nil
	}
	res, err := s.retryClaimed(ctx, req, t)
	if err != nil || res.Outcome != RetryStarted {
		if uerr := s.store.Unclaim(context.WithoutCancel(ctx), key); uerr != nil {
			s.log.Warn("give back the retry key", "key", key, "err", uerr)
		}
	}
	return res, err
}

// retriable says, as a *UserError, why t may not be retried; nil when it may.
func (s *Service) retriable(ctx context.Context, t Train) error {
	switch {
	case t.State != Failed && len(t.Attempts) > 0 && !t.State.Final():
		return userErr("%s is already being retried (attempt %d); follow it in its thread. Nothing was done.", t.ID, t.Attempt())
	case t.State != Failed:
		return userErr("%s is %s: only a failed train's deploy can be retried. Nothing was done.", t.ID, t.State)
	case !t.Retriable():
		return userErr("%s failed before its deploy was dispatched (%s), so there is nothing to retry: cut a new train. Nothing was done.", t.ID, t.Error)
	}
	later, err := s.store.ListTrains(ctx, TrainQuery{From: t.At})
	if err != nil {
		return err
	}
	for _, o := range later {
		if o.ID != t.ID && o.Track.Environment() == t.Track.Environment() && o.Tag != "" && o.Created.After(t.Created) {
			return userErr("%s came after %s: retrying %s would deploy an older tag over it. Nothing was done; to go back, use `/train rollback %s <reason>`.",
				o.ID, t.ID, t.Tag, t.Track.Environment())
		}
	}
	return nil
}

// retryClaimed is Retry once its key is taken: it takes the track's lock,
// stores the train as deploying again with the failed run kept as an
// attempt, and launches it.
func (s *Service) retryClaimed(ctx context.Context, req RetryRequest, t Train) (RetryResult, error) {
	lease, ok, err := s.lockTrack(ctx, t.Track)
	if err != nil {
		return RetryResult{}, err
	}
	if !ok {
		s.log.Info("retry refused: the track lock is held", "train", string(t.ID), "holder", lease.Holder, "user", req.By)
		s.audit(ctx, req.By, "retry", t.ID, t.Tag, userErr("the %s track is busy", t.Track))
		return RetryResult{Outcome: RetryBusy, Train: t}, nil
	}
	now := s.clock.Now()
	retried := t
	retried.Attempts = append(append([]Attempt(nil), t.Attempts...), Attempt{N: t.Attempt(), RunID: t.DeployRunID, URL: t.DeployURL,
		DispatchedAt: t.DispatchedAt, By: t.attemptBy(), Outcome: t.Error, RetriedBy: req.By, RetriedAt: now})
	retried.DeployRunID, retried.DeployURL, retried.DispatchedAt = 0, "", time.Time{}
	retried.Gate, retried.Error, retried.Live, retried.Instances = nil, "", NotVerified, 0
	if err := retried.MoveTo(Deploying, now); err != nil {
		s.release(ctx, lease)
		return RetryResult{}, err
	}
	if err := s.update(ctx, &retried, lease.Fence()); err != nil {
		s.release(ctx, lease)
		if errors.Is(err, ErrConflict) {
			return RetryResult{}, userErr("%s changed while it was being retried; look at its thread before trying again. Nothing was done.", t.ID)
		}
		return RetryResult{}, fmt.Errorf("record the retry of %s (nothing was dispatched): %w", t.ID, err)
	}
	s.audit(ctx, req.By, "retry", t.ID, "attempt "+strconv.Itoa(retried.Attempt())+" of "+t.Tag, nil)
	s.editTop(ctx, retried)
	s.replyQuiet(ctx, retried.Message, Say(T("🔁 "), U(req.By), T(fmt.Sprintf(" retried the deploy: attempt %d of ", retried.Attempt())), C(retried.Tag), T(".")))
	s.launch(ctx, retried, lease)
	return RetryResult{Outcome: RetryStarted, Train: retried}, nil
}

// findAttemptRun finds the deploy run of t's current attempt on its tag.
// After a retry, the runs of earlier attempts on the same tag match too
// (and for a rollback, the runs that deployed its tag before),
// and GitHub lists a dispatched run a few seconds after the dispatch: so an
// earlier attempt's run is passed over and the list read again, up to
// attemptLooks times attemptPause apart; then ErrRunNotFound.
func (s *Service) findAttemptRun(ctx context.Context, t Train) (Run, error) {
	for look := 1; ; look++ {
		run, err := s.repo.FindDeployRun(ctx, t.Tag, t.DispatchedAt.Add(-time.Minute))
		if err != nil || !t.attempted(run.ID) {
			return run, err
		}
		if look == attemptLooks {
			return Run{}, fmt.Errorf("no deploy run of attempt %d on %s appeared (the newest, run %d, is older than the train's dispatch): %w",
				t.Attempt(), t.Tag, run.ID, ErrRunNotFound)
		}
		if !s.sleep(ctx, s.clock.Now().Add(attemptPause), attemptPause, nil) {
			return Run{}, ctx.Err()
		}
	}
}

// attemptLooks and attemptPause bound findAttemptRun's wait for a
// retried run to be listed: a minute.
const (
	attemptLooks = 12
	attemptPause = 5 * time.Second
)
