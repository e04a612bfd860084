package trains

import (
	"context"
	"time"
)

// SystemClock is the wall clock, in UTC: the Clock production uses
// wherever none is injected. UTC, because every time trainbot stores,
// compares or shows is UTC; it drops the monotonic reading, so an
// interval measured on it follows the wall clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Sleeper waits for d, or returns ctx.Err() when ctx ends first. Adapters
// wait with one between retries and polls; production waits on a timer
// (Sleep), tests record the wait and move their clock instead, so that no
// test really waits.
type Sleeper func(ctx context.Context, d time.Duration) error

// Sleep is the real Sleeper: it waits on a timer. A d that is not
// positive does not wait.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
