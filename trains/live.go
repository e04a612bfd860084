package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// This file checks that a deployed train's tag is live (issue 13): after
// the deploy run succeeds the train is Deployed with Live = Verifying, and
// trainbot asks LiveVersions, with backoff, how many instances report the
// tag, until one does (Verified) or VerifyTimeout passes (Unverified).
//
// The verification runs under a lease of its own ("verify:<train>"), not
// the track's: the next train of the track, a hotfix or a rollback may be
// cut while it runs. A crash in the middle leaves the train Verifying; the
// scheduler's tick takes the lease and continues it, with the deadline
// counted from LiveSince, so a restart neither shortens nor extends it.

// LiveVersions tells how many instances of the released services report a
// tag as the version they run: the RFC's build_info gauge, read from
// Prometheus by the adapter (package live).
type LiveVersions interface {
	// CountLive returns how many instances report tag now; 0 when none
	// does. An error says the source could not be asked or refused the
	// question (Prometheus unreachable, the query rejected): the answer
	// is not known, which is not the same as 0.
	CountLive(ctx context.Context, tag string) (int, error)
}

// VerifyObserver hears about verifications that end, by track and result
// ("verified" or "unverified"); metrics implement it. An Observer that is
// also a VerifyObserver is told.
type VerifyObserver interface {
	TrainVerified(track, result string)
}

// The defaults of the verification's settings.
const (
	// DefaultVerifyTimeout is how long after its deploy run succeeded a
	// train may take to be reported live.
	DefaultVerifyTimeout = 15 * time.Minute
	// DefaultVerifyPoll is the first wait between two questions; the
	// waits double up to verifyBackoff times it.
	DefaultVerifyPoll = 5 * time.Second
	verifyBackoff     = 12
	// verifyLookback bounds, by their slot, the trains the scheduler looks
	// through for verifications to continue.
	verifyLookback = 14 * 24 * time.Hour
)

// verifying reports whether live verification is on.
func (s *Service) verifying() bool { return s.live != nil }

// verifyLeaseName names the lease a train's verification runs under.
func verifyLeaseName(id TrainID) string { return "verify:" + string(id) }

// startVerifying marks *t, about to be stored as Deployed, as waiting to
// be seen live, when verification is on.
func (s *Service) startVerifying(t *Train) {
	if !s.verifying() {
		return
	}
	t.Live, t.LiveSince, t.Instances = Verifying, s.clock.Now(), 0
}

// resumeVerifying continues the verifications a crash or a lost lease left
// unfinished: trains Deployed and Verifying that no one verifies now.
func (s *Service) resumeVerifying(ctx context.Context, now time.Time) error {
	if !s.verifying() {
		return nil
	}
	_, err := s.eachUnwatched(ctx, now, func(t Train, lease Lease) error {
		s.log.Info("resuming live verification", "train", string(t.ID), "tag", t.Tag)
		s.launch(ctx, t, lease)
		return nil
	})
	return err
}

// abandonVerifying ends, at the first tick with live verification off,
// the verifications a trainbot that had it on left unfinished: each such
// train's thread is told that nobody waits for its tag any more, and the
// train shows no verification, rather than "verifying" for ever. A train
// whose verification lease is held (a replica that still verifies, or
// one that stopped and whose lease has not run out) is looked at again at
// the next tick.
func (s *Service) abandonVerifying(ctx context.Context, now time.Time) error {
	if s.verifying() || s.liveSettled.Load() {
		return nil
	}
	held, err := s.eachUnwatched(ctx, now, func(t Train, lease Lease) error {
		done := t
		done.Live, done.Updated = NotVerified, s.clock.Now()
		err := s.update(ctx, &done, lease.Fence())
		s.release(ctx, lease)
		if err != nil {
			return fmt.Errorf("end the verification of %s: %w", t.ID, err)
		}
		s.log.Info("live verification is off: no longer waiting for the tag", "train", string(t.ID), "tag", t.Tag)
		s.audit(ctx, "trainbot", "live off", t.ID, "live verification turned off while "+t.Tag+" was verified", nil)
		s.editTop(ctx, done)
		s.replyQuiet(ctx, done.Message, Say(T("Live verification is off now (TRAINBOT_PROMETHEUS_URL is empty), so trainbot no longer waits for an instance to report "),
			C(t.Tag), T(".")))
		return nil
	})
	if err == nil {
		s.liveSettled.Store(!held)
	}
	return err
}

// eachUnwatched calls each, with the verification's lease taken, for every
// train of the last verifyLookback that is Deployed and Verifying and
// whose verification lease is free: no one verifies it now. held reports
// whether a train was passed over because its lease is held (verified
// elsewhere, or by a holder that died: its lease runs out first).
func (s *Service) eachUnwatched(ctx context.Context, now time.Time, each func(Train, Lease) error) (held bool, err error) {
	ts, err := s.store.ListTrains(ctx, TrainQuery{From: now.Add(-verifyLookback)})
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.State != Deployed || t.Live != Verifying {
			continue
		}
		lease, ok, err := s.store.TryLease(ctx, verifyLeaseName(t.ID), s.holder(), s.cfg.LockTTL)
		if err != nil {
			return held, err
		}
		if !ok {
			held = true
			continue
		}
		if err := each(t, lease); err != nil {
			return held, err
		}
	}
	return held, nil
}

// watch runs t's verification in the background, counted in s.watching.
func (s *Service) watch(ctx context.Context, t Train, lease Lease) {
	s.watching.Add(1)
	go func() {
		defer s.watching.Done()
		s.verify(ctx, t, lease)
	}()
}

// verify runs t's verification until it ends or ctx does. lease is the
// verification's lease when the scheduler took it; a zero lease is taken
// here, and when another holder has it, that holder verifies.
func (s *Service) verify(ctx context.Context, t Train, lease Lease) {
	log := s.log.With("train", string(t.ID), "tag", t.Tag)
	if lease.Name == "" {
		var ok bool
		var err error
		lease, ok, err = s.store.TryLease(ctx, verifyLeaseName(t.ID), s.holder(), s.cfg.LockTTL)
		if err != nil || !ok {
			log.Info("live verification left to the scheduler", "held", !ok, "err", err)
			return
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := s.keepLease(ctx, cancel, &lease, s.cfg.LockTTL)
	defer func() { stop(); s.release(ctx, lease) }()

	deadline := t.LiveSince.Add(s.cfg.VerifyTimeout)
	wait := s.cfg.VerifyPoll
	answered := false // Prometheus answered at least once
	for {
		n, err := s.live.CountLive(ctx, t.Tag)
		if ctx.Err() != nil {
			log.Info("live verification paused; it continues at the next start or on the lease's next holder")
			return
		}
		if err != nil {
			log.Warn("live verification: cannot ask how many instances report the tag; asking again", "err", err)
			s.liveUnknown(ctx, t, deadline, err)
		} else {
			answered = true
		}
		now := s.clock.Now()
		switch {
		case err == nil && n > 0:
			s.concludeLive(ctx, t, lease.Fence(), Verified, n, true)
			return
		case err == nil:
			if newer, ok := s.replacedBy(ctx, t); ok {
				t.ReplacedBy = newer.Tag
				s.concludeLive(ctx, t, lease.Fence(), Superseded, 0, true)
				return
			}
		}
		switch {
		case !now.Before(deadline):
			s.concludeLive(ctx, t, lease.Fence(), Unverified, 0, answered)
			return
		}
		next := now.Add(wait)
		if next.After(deadline) {
			next = deadline
		}
		if !s.sleep(ctx, next, next.Sub(now), nil) {
			return
		}
		wait = min(2*wait, verifyBackoff*s.cfg.VerifyPoll)
	}
}

// replacedBy returns the newest train deployed (or deploying) to t's
// environment after t, when there is one: t's tag is then no longer the
// one the instances should report. A store that cannot say is taken as
// no: the verification goes on, and the deadline still ends it.
func (s *Service) replacedBy(ctx context.Context, t Train) (Train, bool) {
	ts, err := s.store.ListTrains(ctx, TrainQuery{From: t.LiveSince.Add(-verifyLookback)})
	if err != nil {
		s.log.Warn("live verification: cannot read the trains deployed since", "train", string(t.ID), "err", err)
		return Train{}, false
	}
	var newest Train
	found := false
	for _, u := range ts {
		if u.ID == t.ID || u.Tag == t.Tag || u.DispatchedAt.IsZero() || !u.DispatchedAt.After(t.DispatchedAt) ||
			u.Track.Environment() != t.Track.Environment() || (u.State != Deploying && u.State != Deployed) {
			continue
		}
		if !found || u.DispatchedAt.After(newest.DispatchedAt) {
			newest, found = u, true
		}
	}
	return newest, found
}

// liveUnknown says in t's thread, once per train, that whether its tag is
// live cannot be known now; each failed question is logged.
func (s *Service) liveUnknown(ctx context.Context, t Train, deadline time.Time, cause error) {
	if ok, err := s.store.Claim(ctx, "live-unknown:"+string(t.ID), 2*s.cfg.VerifyTimeout+time.Hour); err != nil || !ok {
		return
	}
	s.replyQuiet(ctx, t.Message, Say(T("⚠️ Cannot tell whether "), C(t.Tag), T(" is live: "+cause.Error()+" — trainbot keeps asking until "),
		D(deadline), T(", and says so only once.")))
}

// concludeLive stores the verification's result on t, counts it, and
// tells the thread and the top message. answered is false when no
// question was ever answered: the thread then says that too.
func (s *Service) concludeLive(ctx context.Context, t Train, fence Fence, result Verification, n int, answered bool) {
	replaced := t.ReplacedBy
	for try := 0; ; try++ {
		done := t
		done.Live, done.Instances, done.ReplacedBy, done.Updated = result, n, replaced, s.clock.Now()
		err := s.update(ctx, &done, fence)
		if err == nil {
			t = done
			break
		}
		if !errors.Is(err, ErrConflict) || try == 2 {
			s.log.Error("record the live verification; it is tried again at the next start", "train", string(t.ID), "result", result, "err", err)
			return
		}
		// Changed meanwhile (a note, a retry's bookkeeping): keep that change.
		cur, gerr := s.store.GetTrain(ctx, t.ID)
		if gerr != nil || cur.Live != Verifying {
			return
		}
		t = cur
	}
	detail := fmt.Sprintf("%d instance(s) report %s", n, t.Tag)
	switch result {
	case Unverified:
		detail = fmt.Sprintf("no instance reported %s within %s", t.Tag, Duration(s.cfg.VerifyTimeout))
	case Superseded:
		detail = fmt.Sprintf("%s was deployed to %s before any instance reported %s", t.ReplacedBy, t.Track.Environment(), t.Tag)
	}
	s.audit(ctx, "trainbot", "live "+string(result), t.ID, detail, nil)
	if o, ok := s.obs.(VerifyObserver); ok && result != Superseded {
		o.TrainVerified(string(t.Track), string(result))
	}
	s.editTop(ctx, t)
	if result == Verified {
		s.replyQuiet(ctx, t.Message, Say(T(fmt.Sprintf("🟢 live: %d %s %s ", n, Plural(n, "instance", "instances"), Plural(n, "reports", "report"))), C(t.Tag)))
		return
	}
	if result == Superseded {
		s.replyQuiet(ctx, t.Message, Say(C(t.ReplacedBy), T(" was deployed to "+t.Track.Environment()+" before any instance reported "), C(t.Tag),
			T(": trainbot stops waiting for it. The newer deploy is verified in its own thread.")))
		return
	}
	why := ""
	if !answered {
		why = " (no question was answered: see above)"
	}
	s.replyQuiet(ctx, t.Message, Say(T("⚠️ The deploy run succeeded but no instance reports "), C(t.Tag),
		T(" after "+Duration(s.cfg.VerifyTimeout)+why+": the train is marked unverified. Check the services, or roll back.")))
}

// liveText says, for the top message, whether t's tag was seen live; nil
// when nothing was asked.
func (s *Service) liveText(t Train) Text {
	switch t.Live {
	case Verifying:
		return Text{T("⏳ verifying — waiting for an instance to report "), C(t.Tag), T(" (until "), D(t.LiveSince.Add(s.cfg.VerifyTimeout)), T(")")}
	case Verified:
		return Text{T(fmt.Sprintf("🟢 verified — %d %s %s ", t.Instances, Plural(t.Instances, "instance", "instances"), Plural(t.Instances, "reports", "report"))), C(t.Tag)}
	case Unverified:
		return Text{T("⚠️ unverified — no instance reported "), C(t.Tag), T(" within " + Duration(s.cfg.VerifyTimeout))}
	case Superseded:
		return Text{T("⏭️ superseded — "), C(t.ReplacedBy), T(" was deployed before an instance reported "), C(t.Tag)}
	}
	return nil
}
