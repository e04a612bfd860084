package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CutRequest asks for a dev or staging train now.
type CutRequest struct {
	Track Track
	// By is who cuts: a releaser, or the bot itself at a slot.
	By string
	// Force promotes a staging candidate that lacks hotfixes.
	Force bool
	// DryRun previews and changes nothing.
	DryRun bool
	// train, when set, is the scheduled train the scheduler cuts.
	train *Train
}

// CutOutcome says how a cut went.
type CutOutcome int

// The outcomes of a cut.
const (
	// CutStarted: the train is recorded, announced and on its way.
	CutStarted CutOutcome = iota
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
)

// CutResult is what a cut did or would do.
type CutResult struct {
	Outcome CutOutcome
	Plan    Plan
	// Train is the train started or already running.
	Train Train
	// Window is the window that holds trains (CutPaused), or that a dry run would meet.
	Window Window
	// SignOff explains missing approvals (CutNeedsSignOff); Approvals are
	// those that count; CanSignOff who could still approve.
	SignOff    *SignOffError
	Approvals  []string
	CanSignOff []string
	Need       int
}

// Cut cuts a dev or staging train now (SPEC §2): it checks quiet windows,
// takes the track's lock, works out the tag, checks the sign-off and the
// hotfix roll-forward for staging, records the train before any side
// effect, announces it, and runs it in the background.
func (s *Service) Cut(ctx context.Context, req CutRequest) (CutResult, error) {
	if !req.Track.Scheduled() {
		return CutResult{}, userErr("only dev and staging trains are cut; a hotfix is `/train hotfix <sha|branch> <reason>`")
	}
	action := "cut " + string(req.Track)
	if !req.DryRun && req.train == nil { // the scheduler's cut was confirmed by someone allowed
		if err := s.authorize(ctx, req.By, action, "", anyRole(Releaser)); err != nil {
			return CutResult{}, err
		}
	}
	now := s.Clock.Now()
	ws, err := s.Store.Windows(ctx, now)
	if err != nil {
		return CutResult{}, err
	}
	w, paused := Active(ws, now)
	if req.DryRun {
		res, err := s.preview(ctx, req, now)
		res.Window = w
		return res, err
	}
	if paused {
		s.audit(ctx, req.By, action, "", "", userErr("paused by quiet window %s", w.ID))
		return CutResult{Outcome: CutPaused, Window: w, Plan: Plan{Track: req.Track}}, nil
	}
	lease, ok, err := s.Store.TryLease(ctx, "track:"+string(req.Track), s.holder(), s.cfg.LockTTL)
	if err != nil {
		return CutResult{}, err
	}
	if !ok {
		s.Log.Info("cut refused: the track lock is held", "track", string(req.Track), "holder", lease.Holder, "user", req.By)
		return CutResult{Outcome: CutBusy, Plan: Plan{Track: req.Track}}, nil
	}
	started := false
	defer func() {
		if !started {
			s.release(lease)
		}
	}()

	t := Train{}
	if req.train != nil {
		t = *req.train
	} else if t, err = s.cutTrain(ctx, req.Track, now); err != nil {
		return CutResult{}, err
	}
	if t.inFlight() {
		started = true
		s.launch(t, lease)
		return CutResult{Outcome: CutRunning, Train: t}, nil
	}
	p, err := s.plan(ctx, req.Track, now)
	if err != nil {
		return CutResult{}, err
	}
	res := CutResult{Plan: p, Train: t, Need: s.cfg.StagingApprovals}
	if p.Nothing != "" {
		res.Outcome = CutNothing
		return res, nil
	}
	var approvals TrainID // the train whose approvals the cut uses up
	var used []SignOffRecord
	if req.Track == Staging {
		if len(p.Missing) > 0 && !req.Force {
			res.Outcome = CutMissingHotfixes
			s.audit(ctx, req.By, action, storedID(t), p.Tag.String(), userErr("missing %d hotfix(es)", len(p.Missing)))
			return res, nil
		}
		if approvals, err = s.approvalsOf(ctx, t); err != nil {
			return res, err
		}
		var counted []string
		counted, used, err = s.signOff(ctx, approvals, p.Candidate(), req.By)
		res.Approvals = counted
		var se *SignOffError
		if errors.As(err, &se) {
			res.Outcome, res.SignOff = CutNeedsSignOff, se
			if res.CanSignOff, err = s.canSignOff(ctx, req.By, counted); err != nil {
				return res, err
			}
			s.audit(ctx, req.By, action, storedID(t), p.Tag.String(), userErr("%v", se))
			return res, nil
		} else if err != nil {
			return res, err
		}
	}

	// Announce first: never run an unmonitored train.
	apply := func(t *Train) error {
		t.Tag, t.Commit, t.Previous, t.Candidate = p.Tag.String(), p.Commit.SHA, p.Previous, p.Candidate()
		t.CutBy, t.Forced, t.ApprovedBy = req.By, req.Force && len(p.Missing) > 0, res.Approvals
		if t.ConfirmedBy == "" {
			t.ConfirmedBy = req.By
		}
		if t.State != Confirmed {
			if err := t.MoveTo(Confirmed, now); err != nil {
				return userErr("%v", err)
			}
		}
		return nil
	}
	if err := apply(&t); err != nil {
		return res, err
	}
	ref, err := s.Announcer.Post(ctx, s.cutMessage(t, p))
	if err != nil {
		return res, fmt.Errorf("announce the cut in the channel (nothing was tagged): %w", err)
	}
	t.Message = ref
	saved, err := s.saveCut(ctx, t, lease.Fence(), apply)
	if err != nil {
		if errors.Is(err, ErrUnclear) {
			// It may be stored: then the resumer tags and deploys it on the
			// scheduler's next tick, as it would after a crash.
			s.Log.Warn("the store did not confirm the cut was recorded; if it was, the resumer continues it", "train", string(t.ID), "tag", t.Tag, "err", err)
			s.replyQuiet(ref, Say(T("⚠️ The state store did not confirm that this cut was recorded, so it may have been. If it was, trainbot tags "),
				C(t.Tag), T(" and deploys it by itself within a minute; if it was not, nothing more happens.")))
			return res, &UnclearError{Err: fmt.Errorf("record train %s: %w", t.ID, err), Text: Text{
				T("⚠️ The state store did not confirm that train " + string(t.ID) + " was recorded, so it may have been cut. If it was, trainbot tags "),
				C(t.Tag), T(" and deploys it by itself within a minute; if it was not, nothing more happens. Check "), C("/train history"),
				T(" before cutting again.")}}
		}
		s.replyQuiet(ref, Say(T("⚠️ This cut was not recorded, so nothing was tagged: "), T(err.Error())))
		return res, fmt.Errorf("record train %s (nothing was tagged): %w", t.ID, err)
	}
	t = saved
	s.audit(ctx, req.By, action, t.ID, t.Tag+" on "+ShortSHA(t.Commit), nil)
	if len(used) > 0 {
		// The approvals are used up: the next cut needs its own (SPEC §2).
		// Should this fail, they still approve only this candidate, which
		// the tag now promoted can never be again.
		if err := s.Store.RemoveSignOffs(ctx, approvals, Approval, used); err != nil {
			s.Log.Warn("use up the approvals", "train", string(t.ID), "approvals_of", string(approvals), "err", err)
		}
	}
	started = true
	s.launch(t, lease)
	res.Outcome, res.Train = CutStarted, t
	return res, nil
}

// saveCut stores a train being cut. When a reminder stored or changed the
// train since it was read (a compare-and-set conflict), the cut is applied
// again to the stored train, unless that one has left or ended.
func (s *Service) saveCut(ctx context.Context, t Train, fence Fence, apply func(*Train) error) (Train, error) {
	for range 3 {
		saved, err := s.save(ctx, t, fence)
		if !errors.Is(err, ErrConflict) {
			return saved, err
		}
		cur, err := s.Store.GetTrain(ctx, t.ID)
		if err != nil {
			return t, err
		}
		if cur.State.Final() || cur.inFlight() {
			return t, userErr("train %s is %s: it changed while this cut was being made", t.ID, cur.State)
		}
		cur.Message = t.Message
		if err := apply(&cur); err != nil {
			return t, err
		}
		t = cur
	}
	return t, fmt.Errorf("record train %s: %w", t.ID, ErrConflict)
}

// preview is a dry-run cut: the plan and who can still sign off.
func (s *Service) preview(ctx context.Context, req CutRequest, now time.Time) (CutResult, error) {
	p, err := s.plan(ctx, req.Track, now)
	if err != nil {
		return CutResult{}, err
	}
	res := CutResult{Outcome: CutPreview, Plan: p, Need: s.cfg.StagingApprovals}
	if req.Track == Staging && p.Nothing == "" {
		t, err := s.cutTrain(ctx, Staging, now)
		if err != nil {
			return res, err
		}
		id, err := s.approvalsOf(ctx, t)
		if err != nil {
			return res, err
		}
		counted, _, err := s.signOff(ctx, id, p.Candidate(), req.By)
		var se *SignOffError
		if err != nil && !errors.As(err, &se) {
			return res, err
		}
		res.Approvals, res.SignOff = counted, se
		if res.CanSignOff, err = s.canSignOff(ctx, req.By, counted); err != nil {
			return res, err
		}
	}
	return res, nil
}

// approvalsOf names the train whose approvals a staging cut of t uses: t
// itself when it is a slot's, else the next staging train (SPEC §2).
func (s *Service) approvalsOf(ctx context.Context, t Train) (TrainID, error) {
	if !t.OffSchedule {
		return t.ID, nil
	}
	next, err := s.nextTrain(ctx, Staging)
	if err != nil {
		return "", err
	}
	return next.ID, nil
}

// cutTrain finds the train a cut of track at now belongs to: a train of
// the track that a quiet window postponed, which goes now; else the
// slot's train on a slot day, unless it has ended; else a new off-schedule
// train with the first free id of the day. A train of the day that is
// still on its way is returned as it is.
func (s *Service) cutTrain(ctx context.Context, track Track, now time.Time) (Train, error) {
	open, err := s.Store.OpenTrains(ctx)
	if err != nil {
		return Train{}, err
	}
	for _, t := range open {
		if t.Track == track && t.State == Postponed {
			return t, nil
		}
	}
	if slot, _ := s.cfg.Schedule.Next(track, now.Truncate(24*time.Hour)); sameDay(slot.At, now) {
		t, err := s.slotTrainFor(ctx, slot)
		if err != nil || !t.State.Final() {
			return t, err
		}
	}
	for n := 1; n <= 99; n++ {
		id := NewTrainID(track, now, n)
		t, err := s.Store.GetTrain(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return Train{ID: id, Track: track, At: now, State: Scheduled, OffSchedule: true, Created: now, Updated: now}, nil
		case err != nil:
			return Train{}, err
		case !t.State.Final():
			return t, nil
		}
	}
	return Train{}, userErr("99 %s trains today is the limit: that many cuts in a day is surely a mistake", track)
}

// inFlight reports whether the train's cut has started: its tag is chosen
// and it has not ended.
func (t Train) inFlight() bool {
	switch t.State {
	case Tagged, Publishing, Deploying:
		return true
	case Confirmed:
		return t.Tag != "" && t.CutBy != ""
	}
	return false
}

// release gives a lease back, logging a failure (it expires anyway).
func (s *Service) release(l Lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), 5*time.Second)
	defer cancel()
	if err := s.Store.ReleaseLease(ctx, l); err != nil {
		s.Log.Warn("release lease", "lease", l.Name, "err", err)
	}
}

// replyQuiet threads a message under ref, logging a failure.
func (s *Service) replyQuiet(ref MessageRef, m Message) {
	if ref.TS == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), 10*time.Second)
	defer cancel()
	if _, err := s.Announcer.Reply(ctx, ref, m); err != nil {
		s.Log.Warn("announce in thread", "err", err)
	}
}
