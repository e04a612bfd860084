package trains

import (
	"context"
	"time"
)

// SchedulerLease is the name of the lease only one replica holds: the one
// that runs the scheduler (SPEC §7).
const SchedulerLease = "scheduler"

// DefaultLeaseTTL is how long the scheduler's lease and a track lock last
// unless renewed (SPEC §7: 15–20 s). Holders renew them every third of it,
// so a replica that dies is replaced within about that long.
const DefaultLeaseTTL = 18 * time.Second

// DefaultPoll is the scheduler's longest wait between two ticks when
// SchedulerConfig.Poll is zero.
const DefaultPoll = 30 * time.Second

// SchedulerConfig says how RunScheduler runs.
type SchedulerConfig struct {
	// Poll is the longest the scheduler waits between two ticks, on the
	// wall clock (DefaultPoll when zero): deploy runs are watched at this
	// pace. Due moments — a reminder, a slot, a window's end, a lease
	// running out — wake it earlier, at the moment.
	Poll time.Duration
	// LeaseTTL is the leader lease's life (DefaultLeaseTTL when zero); the
	// leader renews it every third of that.
	LeaseTTL time.Duration
	// Wake, when not nil, wakes the scheduler each time it receives: a
	// leader ticks, another replica tries for the lease. A send completes
	// only once the work of the wake before it is done (tests step the
	// scheduler with it).
	Wake <-chan time.Time
	// Leading, when not nil, is told true when this replica takes the
	// leader lease and starts running the scheduler, and false when it
	// stops (the lease lost or given back): trainbot_scheduler_leader.
	Leading func(leading bool)
}

// RunScheduler runs the scheduler on this replica while it holds the leader
// lease, until ctx ends (SPEC §7). It tries for the lease at once; the
// leader ticks at once, then at each due moment and at least every Poll,
// while the lease is renewed in the background. A renewal that fails, for
// any reason, ends the leadership before the next side effect: the tick
// under way is cancelled and the lease given back. A replica that is not
// leader tries again when the holder's lease runs out, or at Poll. On
// return the lease is released, so another replica takes over at once.
// Tick errors are logged, not returned: the next tick tries again.
func (s *Service) RunScheduler(ctx context.Context, cfg SchedulerConfig) {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	for ctx.Err() == nil {
		// A new holder name for each try, so that an unclear grant is
		// settled by the holder it names.
		lease, ok, err := s.store.TryLease(ctx, SchedulerLease, s.holder(), cfg.LeaseTTL)
		var wake time.Time
		wait := cfg.Poll
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Warn("take the scheduler lease", "err", err)
			wait = min(cfg.Poll, cfg.LeaseTTL/3)
		case !ok:
			// Try again as soon as the holder's lease runs out (a holder
			// that died is replaced then), a little after.
			wake = lease.Expiry.Add(10 * time.Millisecond)
		default:
			s.lead(ctx, lease, cfg)
			continue
		}
		if !s.sleep(ctx, wake, wait, cfg.Wake) {
			return
		}
	}
}

// lead runs the scheduler's ticks under lease until ctx ends or the lease
// cannot be renewed, then releases it.
func (s *Service) lead(ctx context.Context, lease Lease, cfg SchedulerConfig) {
	s.log.Info("this replica now runs the scheduler", "holder", lease.Holder, "token", lease.Token)
	cfg.leading(true)
	lctx, cancel := context.WithCancel(ctx)
	stop := s.keepLease(lctx, cancel, &lease, cfg.LeaseTTL)
	defer func() {
		cancel()
		stop()
		cfg.leading(false)
		s.release(ctx, lease)
	}()
	for {
		next, err := s.tick(lctx)
		if err != nil && lctx.Err() == nil {
			s.log.Error("scheduler tick", "err", err)
		}
		if lctx.Err() != nil || !s.sleep(lctx, next, cfg.Poll, cfg.Wake) {
			break
		}
	}
	if ctx.Err() == nil {
		s.log.Warn("the scheduler lease could not be renewed: this replica stops running the scheduler until it gets the lease again")
	}
}

// lockTrack tries to take the lock of track for a train of this replica.
// ok is false, with the holder's lease, when another holds it.
func (s *Service) lockTrack(ctx context.Context, track Track) (l Lease, ok bool, err error) {
	return s.store.TryLease(ctx, track.LockName(), s.holder(), s.cfg.LockTTL)
}

// leading tells cfg.Leading, if set, whether this replica leads.
func (cfg SchedulerConfig) leading(yes bool) {
	if cfg.Leading != nil {
		cfg.Leading(yes)
	}
}
