package trains

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Tick does what is due at the clock's now (SPEC §2, §3, §7): reminders,
// the slots that have come (cut, postpone or skip), trains a crash left on
// their way, and deploy runs to record or to announce as unscheduled. Only
// the replica holding the scheduler lease calls it. Every action is keyed in
// the store, so a tick repeated or run late never acts twice.
func (s *Service) Tick(ctx context.Context) error {
	_, err := s.tick(ctx)
	return err
}

// tick is Tick, and also returns the next moment something will be due
// (zero when none is known): the scheduler sleeps until then, or its poll.
func (s *Service) tick(ctx context.Context) (next time.Time, err error) {
	now := s.clock.Now()
	var errs []error
	ws, err := s.store.Windows(ctx, now.Add(-s.cfg.SlotGrace))
	if err != nil {
		return time.Time{}, fmt.Errorf("scheduler: read quiet windows: %w", err)
	}
	if err := s.remind(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("reminders: %w", err))
	}
	if err := s.slotsDue(ctx, now, ws); err != nil {
		errs = append(errs, fmt.Errorf("slots: %w", err))
	}
	open, lockFree, err := s.resumeOpen(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("resume trains: %w", err))
	}
	if err := s.resumeVerifying(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("live verification: %w", err))
	}
	if err := s.abandonVerifying(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("live verification turned off: %w", err))
	}
	if err := s.watchDeploys(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("deploy runs: %w", err))
	}
	if err := s.relistTags(ctx, now); err != nil {
		errs = append(errs, fmt.Errorf("tag lines: %w", err))
	}
	return soonest(now, append(s.dueMoments(now, ws, open), lockFree)...), errors.Join(errs...)
}

// dueMoments are the moments after now at which the scheduler has
// something to do, known from the schedule, the quiet windows ws and the
// open trains: each coming slot, each of its reminders, each postponed
// train's new time and each window's end.
func (s *Service) dueMoments(now time.Time, ws []Window, open []Train) []time.Time {
	var out []time.Time
	longest := time.Duration(0)
	if len(s.cfg.Reminders) > 0 {
		longest = slices.Max(s.cfg.Reminders)
	}
	// Every track's next slot comes within its cadence (two weeks at most),
	// and every reminder before a slot within the longest lead time.
	for _, slot := range s.cfg.Schedule.Between(now.Add(time.Nanosecond), now.Add(longest+15*24*time.Hour)) {
		out = append(out, slot.At)
		for _, lead := range s.cfg.Reminders {
			out = append(out, slot.At.Add(-lead))
		}
	}
	for _, t := range open {
		if !t.State.Final() && !t.inFlight() {
			out = append(out, t.At)
		}
	}
	for _, w := range ws {
		out = append(out, w.Until)
	}
	return out
}

// remind posts the reminder due for each coming slot: the one with the
// shortest lead time that has come. Earlier reminders not sent in time are
// not sent late.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	if len(s.cfg.Reminders) == 0 {
		return nil
	}
	longest := slices.Max(s.cfg.Reminders)
	var errs []error
	for _, slot := range s.cfg.Schedule.Between(now.Add(time.Nanosecond), now.Add(longest).Add(time.Nanosecond)) {
		var due time.Duration
		for _, lead := range s.cfg.Reminders {
			if !now.Before(slot.At.Add(-lead)) && (due == 0 || lead < due) {
				due = lead
			}
		}
		if due == 0 {
			continue
		}
		if err := s.remindSlot(ctx, slot, due); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", slot.ID(), err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) remindSlot(ctx context.Context, slot Slot, lead time.Duration) error {
	key := fmt.Sprintf("reminder:%s:%s", slot.ID(), lead)
	ok, err := s.store.Claim(ctx, key, 2*lead+time.Hour)
	if err != nil || !ok {
		return err
	}
	sent := false
	defer func() {
		if !sent {
			_ = s.store.Unclaim(context.WithoutCancel(ctx), key)
		}
	}()
	t, err := s.slotTrainFor(ctx, slot)
	if err != nil {
		return err
	}
	if t.State.Final() || t.inFlight() || t.State == Postponed {
		sent = true // nothing to remind of
		return nil
	}
	if r, err := s.store.Rotation(ctx); err == nil {
		if u, ok := r.Assignee(s.cfg.Schedule, slot); ok {
			t.OnCall = u
		}
	}
	if p, err := s.plan(ctx, slot.Track, slot.At); err == nil {
		t.Candidate = p.Candidate()
	} else {
		s.log.Warn("reminder without a candidate", "train", string(t.ID), "err", err)
	}
	if t.State == Scheduled {
		if err := t.MoveTo(Announced, s.clock.Now()); err != nil {
			return err
		}
	}
	var approvals []SignOffRecord
	if t.Track == Staging {
		if approvals, err = s.store.SignOffs(ctx, t.ID, Approval); err != nil {
			return err
		}
	}
	ref, err := s.ann.Post(ctx, s.reminderMessage(t, approvals))
	if err != nil {
		return err
	}
	sent = true
	t.Reminder = ref
	_, err = s.save(ctx, t, Fence{})
	changed := errors.Is(err, ErrConflict)
	for try := 0; errors.Is(err, ErrConflict) && try < 3; try++ {
		// Someone confirmed, approved or skipped it meanwhile: keep what
		// they did, and record the reminder on it.
		cur, gerr := s.store.GetTrain(ctx, t.ID)
		if gerr != nil {
			err = gerr
			break
		}
		cur.Reminder, cur.Candidate = ref, t.Candidate
		if cur.OnCall == "" {
			cur.OnCall = t.OnCall
		}
		_, err = s.save(ctx, cur, Fence{})
		t = cur
	}
	if err != nil {
		return fmt.Errorf("record the reminder: %w", err)
	}
	if changed {
		s.refreshReminder(ctx, t, nil) // show what changed while it was posted
	}
	s.audit(ctx, "trainbot", "remind", t.ID, lead.String()+" before, on-call "+t.OnCall, nil)
	return nil
}

// slotsDue acts on every slot whose time has come: slots of the last
// SlotGrace, and postponed trains whose new time has come.
func (s *Service) slotsDue(ctx context.Context, now time.Time, ws []Window) error {
	var due []Train
	for _, slot := range s.cfg.Schedule.Between(now.Add(-s.cfg.SlotGrace), now.Add(time.Nanosecond)) {
		t, err := s.slotTrainFor(ctx, slot)
		if err != nil {
			return err
		}
		due = append(due, t)
	}
	open, err := s.store.OpenTrains(ctx)
	if err != nil {
		return err
	}
	for _, t := range open {
		late := t.State == Postponed || (t.Track.Scheduled() && !t.inFlight() && t.At.Before(now.Add(-s.cfg.SlotGrace)))
		if late && !t.At.After(now) && !slices.ContainsFunc(due, func(d Train) bool { return d.ID == t.ID }) {
			due = append(due, t)
		}
	}
	var errs []error
	for _, t := range due {
		if t.State.Final() || t.inFlight() || t.At.After(now) {
			continue
		}
		if err := s.slotCame(ctx, t, now, ws); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.ID, err))
		}
	}
	return errors.Join(errs...)
}

// slotCame decides what happens to a train whose time has come.
func (s *Service) slotCame(ctx context.Context, t Train, now time.Time, ws []Window) error {
	orig := t.At
	if !t.PostponedFrom.IsZero() {
		orig = t.PostponedFrom
	}
	next, _ := s.cfg.Schedule.After(t.Track, orig)
	// Decide at now, not at the slot: a tick comes a little after the slot,
	// and a window may have begun or ended in between.
	d := Decide(Slot{Track: t.Track, At: now}, next.At, ws)
	switch {
	case d.Action == Postpone:
		t.PostponedFrom, t.At, t.Window, t.WindowReason = orig, d.At, d.Window.ID, d.Window.Reason
		t.Reason = "quiet window: " + d.Window.Reason
		t.Moves++
		if err := t.MoveTo(Postponed, now); err != nil {
			return err
		}
		t, err := s.save(ctx, t, Fence{})
		if err != nil {
			return err
		}
		s.audit(ctx, "trainbot", "postpone", t.ID, "to "+d.At.Format(TimeLayout)+": "+d.Window.Reason, nil)
		s.refreshReminder(ctx, t, nil) // its buttons still name it: same id, new time
		s.post(ctx, noticeMessage("⏸️ "+t.Track.Title()+" "+string(t.ID)+" postponed",
			append(Text{T("Postponed to "), D(d.At), T(" by the quiet window: ")}, T(d.Window.Reason))))
		return nil
	case d.Action == SkipSlot:
		t.Window, t.WindowReason = d.Window.ID, d.Window.Reason
		return s.skipAt(ctx, t, now, "quiet window: "+d.Window.Reason+" (it lasts past the next "+string(t.Track)+" slot)")
	case now.Sub(t.At) > s.cfg.SlotGrace:
		return s.skipAt(ctx, t, now, "trainbot was not running at its time, and a late train is an unmonitored one")
	case t.ConfirmedBy == "":
		return s.skipAt(ctx, t, now, "nobody confirmed it — never run an unmonitored train")
	}
	res, err := s.Cut(ctx, CutRequest{Track: t.Track, By: t.ConfirmedBy, train: &t})
	if err != nil {
		return err
	}
	switch res.Outcome {
	case CutNothing:
		t.Candidate = res.Plan.Candidate()
		return s.skipAt(ctx, t, now, "nothing to ship: "+res.Plan.Nothing)
	case CutNeedsSignOff:
		return s.skipAt(ctx, t, now, "not signed off: "+res.SignOff.Error())
	case CutMissingHotfixes:
		var names []string
		for _, m := range res.Plan.Missing {
			names = append(names, m.String())
		}
		return s.skipAt(ctx, t, now, "the candidate lacks hotfixes "+strings.Join(names, ", ")+"; a releaser may `/train cut staging --force`")
	}
	return nil
}

// skipAt skips a train at its slot, records why and announces it.
func (s *Service) skipAt(ctx context.Context, t Train, now time.Time, reason string) error {
	t.Reason = reason
	if err := t.MoveTo(Skipped, now); err != nil {
		return err
	}
	t, err := s.save(ctx, t, Fence{})
	if err != nil {
		return err
	}
	s.audit(ctx, "trainbot", "skip", t.ID, reason, nil)
	s.announceSkip(ctx, t, Text{T(t.Track.Title() + " " + string(t.ID) + " is skipped: " + reason)})
	s.refreshReminder(ctx, t, nil)
	return nil
}

// post announces m, logging a failure.
func (s *Service) post(ctx context.Context, m Message) {
	if _, err := s.ann.Post(ctx, m); err != nil {
		s.log.Warn("announce", "err", err)
	}
}

// resumeOpen continues every train a crash or a lost lock left on its
// way. It returns the open trains it read and, when a train's track is
// still locked by another holder (one that may have died), the moment that
// lock runs out, a little after, to try again then.
func (s *Service) resumeOpen(ctx context.Context) (open []Train, lockFree time.Time, err error) {
	open, err = s.store.OpenTrains(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, t := range open {
		if !t.inFlight() || s.isRunning(t.ID) {
			continue
		}
		lease, ok, err := s.lockTrack(ctx, t.Track)
		if err != nil {
			return open, lockFree, err
		}
		if !ok {
			lockFree = soonest(s.clock.Now(), lockFree, lease.Expiry.Add(10*time.Millisecond))
			continue
		}
		s.log.Info("resuming train", "train", string(t.ID), "state", t.State)
		s.launch(ctx, t, lease)
	}
	return open, lockFree, nil
}

// watchDeploys records the deploy workflow's runs of the last day and
// announces those whose ref is not a train tag as unscheduled deploys.
func (s *Service) watchDeploys(ctx context.Context, now time.Time) error {
	runs, err := s.repo.DeployRuns(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	for _, r := range runs {
		tag, perr := ParseTag(r.Ref)
		track := Track("")
		if perr == nil {
			track = tag.Track
		}
		s.recordDeploy(ctx, r, track)
		if track != "" {
			continue
		}
		if ok, err := s.store.Claim(ctx, fmt.Sprintf("unscheduled:%d", r.ID), 30*24*time.Hour); err != nil || !ok {
			continue
		}
		s.audit(ctx, "trainbot", "unscheduled deploy", "", fmt.Sprintf("run %d on %s at %s by %s (%s)", r.ID, r.Ref, ShortSHA(r.SHA), r.Actor, r.Event), nil)
		s.post(ctx, unscheduledMessage(s.cfg.DeployWorkflow, r))
	}
	return nil
}
