package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// This file runs a cut train step by step (DESIGN.md "A train, step by
// step"): tag → wait for the publish run → dispatch the deploy → follow
// it. Each step is stored before the next begins and is safe to repeat, so
// a restart continues the train and never repeats a side effect.

// launched is a train to run under its track's lease.
type launched struct {
	train Train
	lease Lease
}

// launch queues t to run in the background under lease, which the run
// renews and finally releases. When Run has returned, t is not run: its
// lease is given back and the next start resumes it.
func (s *Service) launch(ctx context.Context, t Train, lease Lease) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		s.log.Info("shutting down: the train continues at the next start", "train", string(t.ID))
		s.release(ctx, lease)
		return
	}
	s.active[t.ID] = true
	s.queued = append(s.queued, launched{t, lease})
	s.running.Add(1)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // Run is already woken
	}
}

// Run runs the trains the service starts (a cut returns once its train is
// recorded and announced; tagging and deploying go on here) until ctx is
// done, then waits for them to stop before their next step. A train cut
// before Run runs waits for it; one cut after Run has returned is left for
// the next start, which resumes it.
func (s *Service) Run(ctx context.Context) error {
	for {
		s.mu.Lock()
		queued := s.queued
		s.queued = nil
		if ctx.Err() != nil {
			s.stopped = true
		}
		s.mu.Unlock()
		for _, l := range queued {
			if ctx.Err() != nil {
				s.unqueue(ctx, l)
				continue
			}
			go s.run(ctx, l)
		}
		if ctx.Err() != nil {
			s.running.Wait()
			s.watching.Wait() // added to only by runs, which have all returned
			return nil
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		}
	}
}

// unqueue gives back the lease of a queued train that will not run here.
func (s *Service) unqueue(ctx context.Context, l launched) {
	defer s.running.Done()
	s.mu.Lock()
	delete(s.active, l.train.ID)
	s.mu.Unlock()
	s.release(ctx, l.lease)
}

// run advances a launched train as far as it goes, renewing its lease.
func (s *Service) run(parent context.Context, l launched) {
	defer s.running.Done()
	defer func() {
		s.mu.Lock()
		delete(s.active, l.train.ID)
		s.mu.Unlock()
	}()
	if l.train.State == Deployed {
		// Launched by resumeVerifying: only its verification is left.
		s.watch(parent, l.train, l.lease)
		return
	}
	lease := l.lease
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := s.keepLease(ctx, cancel, &lease, s.cfg.LockTTL)
	end := s.advance(ctx, l.train, lease)
	stop()
	s.release(ctx, lease)
	if end.State.Final() {
		// Told last, once the track is free: whoever reads "deployed"
		// may cut the next train at once.
		s.ended(context.WithoutCancel(ctx), end)
	}
	if end.State == Deployed && end.Live == Verifying {
		s.watch(parent, end, Lease{})
	}
}

// keepLease renews the lease every third of ttl until stopped. A renewal
// that fails for any reason — the lease lost, or the store not answering —
// cancels the holder's context through lost, so that the work stops before
// its next side effect (as Kubernetes leader election does): the lease may
// run out before the store answers again, and then another holder may
// already be at work. The work resumes from its last stored step, here or
// wherever the lease is taken next.
//
// Renewals follow the service's Clock, and the wall clock too: whichever
// reaches the next renewal first. In production the two are one; a test
// clock moved ahead renews at once (the embedded store expires leases on
// the service's clock), while Redis, which expires leases in real time,
// still sees a renewal every third of ttl when a test clock stands still.
func (s *Service) keepLease(ctx context.Context, lost context.CancelFunc, l *Lease, ttl time.Duration) (stop func()) {
	kctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	every := ttl / 3
	go func() {
		defer close(finished)
		for s.sleep(kctx, s.clock.Now().Add(every), every, nil) {
			nl, err := s.store.RenewLease(kctx, *l, ttl)
			if kctx.Err() != nil {
				return // stopped, or the work's context ended: nothing is lost
			}
			if err != nil {
				s.log.Error("lease not renewed: stopping the work it guards here; whoever holds the lease next continues it", "lease", l.Name, "err", err)
				lost()
				return
			}
			l.Token, l.Expiry = nl.Token, nl.Expiry
		}
	}()
	return func() { cancel(); <-finished }
}

// stepError is a failure that ends the train.
type stepError struct{ msg string }

func (e *stepError) Error() string { return e.msg }

// definitive reports whether a Repo error ends the train rather than
// waiting to be tried again.
func definitive(err error) bool {
	var tc *TagConflictError
	var se *stepError
	return errors.As(err, &tc) || errors.As(err, &se) || errors.Is(err, ErrRunNotFound) || errors.Is(err, ErrRefused)
}

// advance moves t through its steps until it ends or cannot go on now,
// and returns it as last stored.
func (s *Service) advance(ctx context.Context, t Train, lease Lease) Train {
	log := s.log.With("train", string(t.ID), "tag", t.Tag)
	for !t.State.Final() {
		err := s.step(ctx, &t, lease.Fence())
		if err == nil {
			continue
		}
		if ctx.Err() != nil || errors.Is(err, ErrLeaseLost) {
			log.Info("train paused; it continues when trainbot or the lock holder picks it up", "state", t.State, "err", err)
			return t
		}
		if !definitive(err) {
			log.Warn("train step failed; it is tried again on the next scheduler tick", "state", t.State, "err", err)
			key := fmt.Sprintf("trouble:%s:%s", t.ID, t.State)
			if ok, _ := s.store.Claim(ctx, key, time.Hour); ok {
				s.replyQuiet(ctx, t.Message, Say(T("⚠️ "), T(err.Error()), T(" — trainbot will try this step again.")))
			}
			return t
		}
		return s.fail(ctx, t, lease.Fence(), err)
	}
	return t
}

// update stores *t and, when that works, replaces *t with the stored
// train; on failure *t keeps its last stored version.
func (s *Service) update(ctx context.Context, t *Train, fence Fence) error {
	stored, err := s.store.UpdateTrain(ctx, *t, fence)
	if err != nil {
		return err
	}
	*t = stored
	return nil
}

// move moves *t to state next and stores it; on failure *t is as stored before.
func (s *Service) move(ctx context.Context, t *Train, next State, fence Fence) error {
	moved := *t
	if err := moved.MoveTo(next, s.clock.Now()); err != nil {
		return err
	}
	if err := s.update(ctx, &moved, fence); err != nil {
		return err
	}
	*t = moved
	s.audit(ctx, "trainbot", "train "+string(next), t.ID, t.Tag, nil)
	return nil
}

// step does the next step of *t, which it keeps as last stored.
func (s *Service) step(ctx context.Context, t *Train, fence Fence) error {
	switch t.State {
	case Confirmed:
		msg := fmt.Sprintf("%s train %s, cut by trainbot for %s", t.Track, t.ID, t.CutBy)
		if err := s.repo.CreateTag(ctx, t.Tag, t.Commit, msg); err != nil {
			return err
		}
		if err := s.move(ctx, t, Tagged, fence); err != nil {
			return err
		}
		s.replyQuiet(ctx, t.Message, Say(T("🏷️ Tagged "), C(t.Tag), T(" on "), C(ShortSHA(t.Commit)), T(".")))
		return nil
	case Tagged:
		// The calendar file, after a dev train's tag: it never stops the
		// train, and repeated after a crash it writes nothing new.
		// A rollback's tag was published when it was first made: it deploys.
		if t.RollsBack == "" {
			s.publishCalendarStep(ctx, *t)
		}
		next := Deploying
		if s.cfg.PublishWorkflow != "" && t.RollsBack == "" {
			next = Publishing
		}
		if err := s.move(ctx, t, next, fence); err != nil {
			return err
		}
		if next == Publishing {
			s.replyQuiet(ctx, t.Message, Say(T("📦 Waiting for "), C(s.cfg.PublishWorkflow), T(" to build, sign and scan "), C(t.Tag), T(".")))
		}
		return nil
	case Publishing:
		run, err := s.repo.WaitPublish(ctx, t.Tag)
		if err != nil {
			return err
		}
		if !run.Succeeded() {
			return &stepError{fmt.Sprintf("the publish run %s on %s ended %s, so nothing was deployed: %s", s.cfg.PublishWorkflow, t.Tag, run.Conclusion, run.URL)}
		}
		t.PublishRunID = run.ID
		if err := s.move(ctx, t, Deploying, fence); err != nil {
			return err
		}
		s.replyQuiet(ctx, t.Message, Say(T("📦 Images published: "), L(s.cfg.PublishWorkflow, run.URL), T(".")))
		return nil
	case Deploying:
		return s.deploy(ctx, t, fence)
	}
	return fmt.Errorf("train %s is %s: there is no step to run", t.ID, t.State)
}

// deploy dispatches the deploy workflow once and follows its run.
func (s *Service) deploy(ctx context.Context, t *Train, fence Fence) error {
	if t.DeployRunID == 0 {
		var run Run
		var err error
		if !t.DispatchedAt.IsZero() {
			// A dispatch may have been made before a crash: find its run first.
			run, err = s.findAttemptRun(ctx, *t)
			if err != nil && !errors.Is(err, ErrRunNotFound) {
				return err
			}
		}
		if run.ID == 0 {
			t.DispatchedAt = s.clock.Now()
			if err := s.update(ctx, t, fence); err != nil {
				return err
			}
			in := t.deployInputs()
			if err := s.repo.Dispatch(ctx, t.Tag, in); err != nil {
				return err
			}
			s.replyQuiet(ctx, t.Message, Say(T("🚀 Dispatched "), C(s.cfg.DeployWorkflow), T(" with ref "), C(t.Tag),
				T(fmt.Sprintf(" (environment=%s, release_type=%s).", in["environment"], in["release_type"]))))
			if run, err = s.findAttemptRun(ctx, *t); err != nil {
				return err
			}
		}
		t.DeployRunID, t.DeployURL = run.ID, run.URL
		if err := s.update(ctx, t, fence); err != nil {
			return err
		}
		s.replyQuiet(ctx, t.Message, Say(T("👀 Following the deploy run: "), L(fmt.Sprintf("run %d", run.ID), run.URL)))
	}
	run, err := s.repo.WaitRun(ctx, t.DeployRunID, t.Gate != nil)
	if err != nil {
		return err
	}
	switch {
	case t.Gate == nil && run.Waiting():
		return s.gateWaits(ctx, t, run, fence)
	case t.Gate != nil && !run.Waiting():
		if err := s.gateReviewed(ctx, t, run, fence); err != nil {
			if run.Completed() {
				s.recordDeploy(ctx, run, t.Track)
			}
			return err
		}
	}
	if !run.Completed() {
		return nil // follow it again, from the state it is in
	}
	s.recordDeploy(ctx, run, t.Track)
	if !run.Succeeded() {
		return &stepError{fmt.Sprintf("the deploy run ended %s: %s", run.Conclusion, run.URL)}
	}
	s.startVerifying(t)
	return s.move(ctx, t, Deployed, fence)
}

// deployInputs are the deploy workflow's inputs for the train: its
// track's, or for a rollback, those of the track of the tag it deploys
// again, as that tag was first deployed with.
func (t Train) deployInputs() map[string]string {
	if tag, err := ParseTag(t.Tag); err == nil && t.RollsBack != "" {
		return tag.Track.WorkflowInputs()
	}
	return t.Track.WorkflowInputs()
}

// recordDeploy stores a deploy run for stats. A run with no id (a dry
// run's stand-in) is not a deploy and is not recorded.
func (s *Service) recordDeploy(ctx context.Context, run Run, track Track) {
	if run.ID == 0 {
		return
	}
	d := DeployRecord{RunID: run.ID, At: run.Created, Ref: run.Ref, Track: track, Conclusion: run.Conclusion, URL: run.URL}
	if err := s.store.RecordDeploy(ctx, d); err != nil {
		s.log.Warn("record deploy", "run", run.ID, "err", err)
	}
}

// fail ends t as failed with err's reason.
// On a store failure it returns t as it was: not ended.
func (s *Service) fail(ctx context.Context, t Train, fence Fence, cause error) Train {
	failed := t
	failed.Error = cause.Error()
	if err := failed.MoveTo(Failed, s.clock.Now()); err != nil {
		s.log.Error("cannot mark train failed", "train", string(t.ID), "err", err)
		return t
	}
	stored, err := s.store.UpdateTrain(ctx, failed, fence)
	if err != nil {
		s.log.Error("record failed train", "train", string(t.ID), "err", err, "cause", cause)
		return t
	}
	s.audit(ctx, "trainbot", "train failed", t.ID, t.Tag, cause)
	return stored
}

// ended counts a train that reached its final state and announces it: the
// top message is edited, then the outcome is threaded under it (last, so a
// reader who sees it sees everything else done).
func (s *Service) ended(ctx context.Context, t Train) {
	if s.obs != nil {
		s.obs.TrainEnded(string(t.Track), string(t.State))
	}
	if t.Message.TS != "" {
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := s.ann.Edit(ectx, t.Message, s.cutMessage(t, Plan{})); err != nil {
			s.log.Warn("edit the cut announcement", "train", string(t.ID), "err", err)
		}
		cancel()
	}
	if t.State == Deployed {
		s.replyQuiet(ctx, t.Message, Say(T("✅ "), C(t.Tag), T(" is deployed to "+t.Track.Environment()+".")))
	} else {
		s.replyQuiet(ctx, t.Message, Say(T("❌ Train failed: "), T(t.Error)))
	}
}
