package trains

import (
	"context"
	"errors"
	"time"
)

// SchedulerLease is the name of the lease only one replica holds: the one
// that runs the scheduler (SPEC §7).
const SchedulerLease = "scheduler"

// RunScheduler runs the scheduler on this replica while it holds the leader
// lease: on each tick it takes or renews the lease (ttl should be about
// three ticks, so renewal comes at a third of its life) and, as leader,
// calls Tick. Replicas that are not leader only try for the lease. On
// return (ctx done) the lease is released, so another replica takes over
// at once. Tick errors are logged, not returned: the next tick tries again.
func (s *Service) RunScheduler(ctx context.Context, ticks <-chan time.Time, ttl time.Duration) {
	holder := s.holder()
	var lease Lease
	leader := false
	defer func() {
		if leader {
			s.release(lease)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		var err error
		if leader {
			lease, err = s.Store.RenewLease(ctx, lease, ttl)
			if errors.Is(err, ErrLeaseLost) {
				leader = false
				s.Log.Warn("scheduler lease lost; another replica runs the scheduler")
			} else if err != nil {
				s.Log.Warn("renew the scheduler lease", "err", err)
				continue
			}
		}
		if !leader {
			var ok bool
			lease, ok, err = s.Store.TryLease(ctx, SchedulerLease, holder, ttl)
			if err != nil {
				s.Log.Warn("take the scheduler lease", "err", err)
				continue
			}
			if !ok {
				continue
			}
			leader = true
			s.Log.Info("this replica now runs the scheduler", "holder", holder)
		}
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("scheduler tick", "err", err)
		}
	}
}
