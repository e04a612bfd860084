// Package storagetest is the conformance suite every trains.Store backend
// passes: one set of tests, run against Redis and the embedded store alike
// (in the style of go-cloud's docstore/drivertest).
//
// A backend's test calls Run with a NewHarness that makes a fresh, empty
// store for each test. The suite never sleeps to let time pass: it calls
// Harness.Advance, which each backend implements its own way (the embedded
// store moves its injected clock; the Redis harness shortens the TTLs of
// the store's keys through a raw client and moves the store's clock).
package storagetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trainbot/trainbot/trains"
)

// Harness is one fresh, empty store for one test.
type Harness struct {
	// Store is the store under test.
	Store trains.Store
	// Advance makes d pass for the store: every lease and claim whose ttl
	// ends within d has expired when it returns. The suite calls it only
	// when no store call is in flight.
	Advance func(t testing.TB, d time.Duration)
	// Bounded makes a fresh, empty store of the same kind whose audit log
	// keeps the newest max entries, and each train's log the newest
	// trainMax, give or take AuditSlack; it is cleaned up with t.Cleanup.
	// Every backend must have one: the audit log is bounded (SPEC §7).
	Bounded func(t testing.TB, max, trainMax int) trains.Store
	// AuditSlack is how many entries over its cap a bounded log may keep:
	// 0 for a store that trims exactly, stream-node-max-entries (100 by
	// default) for Redis's XADD MAXLEN ~.
	AuditSlack int
}

// NewHarness makes a fresh, empty store for t, and cleans it up with
// t.Cleanup.
type NewHarness func(t testing.TB) Harness

// T0 is the instant the suite's data and clocks start from. A harness
// whose store has a clock starts it here.
var T0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Run runs the conformance suite against the stores newHarness makes.
func Run(t *testing.T, newHarness NewHarness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Ping", testPing},
		{"CreateGetTrain", testCreateGetTrain},
		{"UpdateTrain", testUpdateTrain},
		{"UpdateTrainRace", testUpdateTrainRace},
		{"ListTrains", testListTrains},
		{"OpenTrains", testOpenTrains},
		{"Windows", testWindows},
		{"Rotation", testRotation},
		{"StartedLine", testStartedLine},
		{"CalendarState", testCalendarState},
		{"SignOffs", testSignOffs},
		{"SignOffRace", testSignOffRace},
		{"Claim", testClaim},
		{"ClaimRace", testClaimRace},
		{"Lease", testLease},
		{"LeaseExpiryAndFencing", testLeaseFencing},
		{"LeaseRace", testLeaseRace},
		{"Audit", testAudit},
		{"AuditBounded", testAuditBounded},
		{"Deploys", testDeploys},
		{"TrainGate", testTrainGate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t))
		})
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %q", what, err, target)
	}
}

// must fails t when err is not nil.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// diff fails t when got differs from want (nil and empty are equal).
func diff[V any](t testing.TB, what string, want, got V) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func ctxOf(t testing.TB) context.Context { return t.Context() }

// winners runs try from n goroutines released at once and counts the
// tries that report true; a try's error fails t.
func winners(t testing.TB, n int, what string, try func(i int) (bool, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	var won atomic.Int32
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := try(i)
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return int(won.Load())
}

func testPing(t *testing.T, h Harness) {
	must(t, "ping", h.Store.Ping(ctxOf(t)))
}
