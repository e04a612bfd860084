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

// CutResult is what a cut did or would do.
type CutResult struct {
	Outcome Outcome
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
	if !req.DryRun && req.train == nil { // the scheduler's cut was confirmed by someone allowed
		if err := s.authorize(ctx, req.By, req.action(), "", anyRole(Releaser)); err != nil {
			return CutResult{}, err
		}
	}
	now := s.clock.Now()
	ws, err := s.store.Windows(ctx, now)
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
		s.audit(ctx, req.By, req.action(), "", "", userErr("paused by quiet window %s", w.ID))
		return CutResult{Outcome: CutPaused, Window: w, Plan: Plan{Track: req.Track}}, nil
	}
	lease, ok, err := s.lockTrack(ctx, req.Track)
	if err != nil {
		return CutResult{}, err
	}
	if !ok {
		s.log.Info("cut refused: the track lock is held", "track", string(req.Track), "holder", lease.Holder, "user", req.By)
		return CutResult{Outcome: CutBusy, Plan: Plan{Track: req.Track}}, nil
	}
	res, err := s.cutLocked(ctx, req, now, lease)
	if err != nil || (res.Outcome != CutStarted && res.Outcome != CutRunning) {
		s.release(ctx, lease)
	}
	return res, err
}

// action names a cut in the audit log.
func (req CutRequest) action() string { return "cut " + string(req.Track) }

// cutLocked is Cut under the track's lock: the train launched keeps it
// (CutStarted, CutRunning); otherwise the caller gives it back.
func (s *Service) cutLocked(ctx context.Context, req CutRequest, now time.Time, lease Lease) (CutResult, error) {
	t := Train{}
	var err error
	if req.train != nil {
		t = *req.train
	} else if t, err = s.cutTrain(ctx, req.Track, now); err != nil {
		return CutResult{}, err
	}
	if t.inFlight() {
		s.launch(ctx, t, lease)
		return CutResult{Outcome: CutRunning, Train: t}, nil
	}
	p, err := s.plan(ctx, req.Track, now)
	if err != nil {
		return CutResult{}, err
	}
	res := CutResult{Outcome: CutStarted, Plan: p, Train: t, Need: s.cfg.StagingApprovals}
	if p.Nothing != "" {
		res.Outcome = CutNothing
		return res, nil
	}
	var approvals TrainID // the train whose approvals the cut uses up
	var used []SignOffRecord
	if req.Track == Staging {
		if approvals, used, err = s.stagingGate(ctx, req, t, &res); err != nil || res.Outcome != CutStarted {
			return res, err
		}
	}
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
	t, err = s.startTrain(ctx, t, starting{plan: p, lease: lease, words: cutWords, by: req.By, action: req.action(),
		detail: func(t Train) string { return t.Tag + " on " + ShortSHA(t.Commit) },
		save:   func(ctx context.Context, t Train) (Train, error) { return s.saveCut(ctx, t, lease.Fence(), apply) }})
	if err != nil {
		return res, err
	}
	if len(used) > 0 {
		// The approvals are used up: the next cut needs its own (SPEC §2).
		// Should this fail, they still approve only this candidate, which
		// the tag now promoted can never be again.
		if err := s.store.RemoveSignOffs(ctx, approvals, Approval, used); err != nil {
			s.log.Warn("use up the approvals", "train", string(t.ID), "approvals_of", string(approvals), "err", err)
		}
	}
	res.Train = t
	return res, nil
}

// stagingGate checks a staging cut of t against the hotfix roll-forward
// and the two-person rule (SPEC §1, §2). When the cut may not go ahead, it
// sets res's outcome (CutMissingHotfixes, CutNeedsSignOff) and audits the
// refusal; otherwise it returns the train whose approvals the cut uses up,
// and those used.
func (s *Service) stagingGate(ctx context.Context, req CutRequest, t Train, res *CutResult) (TrainID, []SignOffRecord, error) {
	p := res.Plan
	if len(p.Missing) > 0 && !req.Force {
		res.Outcome = CutMissingHotfixes
		s.audit(ctx, req.By, req.action(), storedID(t), p.Tag.String(), userErr("missing %d hotfix(es)", len(p.Missing)))
		return "", nil, nil
	}
	approvals, err := s.approvalsOf(ctx, t)
	if err != nil {
		return "", nil, err
	}
	counted, used, err := s.signOff(ctx, approvals, p.Candidate(), req.By)
	res.Approvals = counted
	var se *SignOffError
	if errors.As(err, &se) {
		res.Outcome, res.SignOff = CutNeedsSignOff, se
		if res.CanSignOff, err = s.canSignOff(ctx, req.By, counted); err != nil {
			return "", nil, err
		}
		s.audit(ctx, req.By, req.action(), storedID(t), p.Tag.String(), userErr("%v", se))
		return "", nil, nil
	}
	return approvals, used, err
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
		cur, err := s.store.GetTrain(ctx, t.ID)
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
	open, err := s.store.OpenTrains(ctx)
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
	free, ofDay, hasOpen, err := s.dayIDs(ctx, track, now, true)
	if hasOpen || err != nil {
		return ofDay, err
	}
	return Train{ID: free, Track: track, At: now, State: Scheduled, OffSchedule: true, Created: now, Updated: now}, nil
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

// release gives a lease back, logging a failure (it expires anyway). It
// does so even when ctx is done.
func (s *Service) release(ctx context.Context, l Lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.store.ReleaseLease(ctx, l); err != nil {
		s.log.Warn("release lease", "lease", l.Name, "err", err)
	}
}

// replyQuiet threads a message under ref, logging a failure. It does so
// even when ctx is done: the message says what happened.
func (s *Service) replyQuiet(ctx context.Context, ref MessageRef, m Message) {
	if ref.TS == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.ann.Reply(ctx, ref, m); err != nil {
		s.log.Warn("announce in thread", "err", err)
	}
}
