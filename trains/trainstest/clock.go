// Package trainstest holds test doubles of the trains ports that tests of
// several packages share: a clock moved by hand, an announcer that
// records, and an in-memory repository (Repo) for the domain's unit tests.
package trainstest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// Clock is a trains.Clock that only moves when told to. It is safe for
// concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	alarms []*alarm
	set    chan struct{} // closed and replaced when an alarm is set
}

type alarm struct {
	at time.Time
	ch chan time.Time
}

var _ trains.AlarmClock = (*Clock)(nil)

// NewClock returns a clock stopped at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now, set: make(chan struct{})} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.ringLocked()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	c.ringLocked()
}

// Alarm returns a channel that receives the clock's time once it has been
// moved to at or past it (at once when it is there already), and a
// function that cancels the alarm.
func (c *Clock) Alarm(at time.Time) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &alarm{at: at, ch: make(chan time.Time, 1)}
	if !c.now.Before(at) {
		a.ch <- c.now
		return a.ch, func() {}
	}
	c.alarms = append(c.alarms, a)
	if c.set != nil {
		close(c.set)
	}
	c.set = make(chan struct{})
	return a.ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.alarms = slices.DeleteFunc(c.alarms, func(b *alarm) bool { return b == a })
	}
}

// ringLocked fires and drops the alarms the clock has reached.
func (c *Clock) ringLocked() {
	c.alarms = slices.DeleteFunc(c.alarms, func(a *alarm) bool {
		if c.now.Before(a.at) {
			return false
		}
		a.ch <- c.now
		return true
	})
}

// WaitAlarm waits until someone waits on an alarm at exactly at (the
// scheduler, which then sleeps until that moment), so that a test moves
// the clock only once the waiter is there. It fails when ctx ends first.
func (c *Clock) WaitAlarm(ctx context.Context, at time.Time) error {
	for {
		c.mu.Lock()
		if c.set == nil {
			c.set = make(chan struct{})
		}
		set := c.set
		found := slices.ContainsFunc(c.alarms, func(a *alarm) bool { return a.at.Equal(at) })
		c.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-set:
		case <-ctx.Done():
			return fmt.Errorf("no alarm was set for %s (pending: %s): %w", at.Format(time.RFC3339Nano), c.pending(), ctx.Err())
		}
	}
}

// pending lists the alarms waited on, for a failure message.
func (c *Clock) pending() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, a := range c.alarms {
		out = append(out, a.at.Format(time.RFC3339Nano))
	}
	return strings.Join(out, ", ")
}
