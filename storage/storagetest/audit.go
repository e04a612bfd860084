package storagetest

import (
	"fmt"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// testAuditBounded appends far more entries than a bounded store's caps and
// checks each log keeps between its cap and cap+AuditSlack entries, that
// those are the newest, and that AuditLog still reads them newest first.
func testAuditBounded(t *testing.T, h Harness) {
	if h.Bounded == nil {
		t.Fatal("the harness has no Bounded store: every backend must bound its audit log (SPEC §7); set Harness.Bounded")
	}
	// Enough appends to go well past each cap plus its slack, and no more:
	// each append to the embedded store is an fsynced transaction.
	const max, trainMax = 60, 20
	appends := 4 * (max + h.AuditSlack)
	ctx := ctxOf(t)
	s := h.Bounded(t, max, trainMax)
	const dev, staging = trains.TrainID("dev-2026-12-01"), trains.TrainID("staging-2026-12-02")
	var all, ofDev, ofStaging []trains.AuditEntry
	for i := range appends {
		var train trains.TrainID
		switch i % 4 {
		case 1:
			train = dev
		case 2:
			train = staging
		}
		e := audit(i, train)
		if i%7 == 0 {
			e.At = T0 // an entry's time does not reorder the log
		}
		must(t, fmt.Sprintf("audit %d", i), s.Audit(ctx, e))
		all = append(all, e)
		switch train {
		case dev:
			ofDev = append(ofDev, e)
		case staging:
			ofStaging = append(ofStaging, e)
		}
	}
	for _, tc := range []struct {
		what     string
		train    trains.TrainID
		appended []trains.AuditEntry
		cap      int
	}{
		{"the whole log", "", all, max},
		{"the log of " + string(dev), dev, ofDev, trainMax},
		{"the log of " + string(staging), staging, ofStaging, trainMax},
	} {
		if len(tc.appended) <= tc.cap+h.AuditSlack {
			t.Fatalf("%s: only %d appended for a cap of %d (+%d): the test does not exercise the trim", tc.what, len(tc.appended), tc.cap, h.AuditSlack)
		}
		got, err := s.AuditLog(ctx, tc.train, 0)
		must(t, "read "+tc.what, err)
		if len(got) < tc.cap || len(got) > tc.cap+h.AuditSlack {
			t.Errorf("%s holds %d entries after %d appends, want from %d to %d (the cap, plus %d slack)",
				tc.what, len(got), len(tc.appended), tc.cap, tc.cap+h.AuditSlack, h.AuditSlack)
		}
		diff(t, tc.what+": the newest entries, newest first", newestFirst(tc.appended, len(got)), got)
		got, err = s.AuditLog(ctx, tc.train, 10)
		must(t, "read the newest 10 of "+tc.what, err)
		diff(t, tc.what+": the newest 10", newestFirst(tc.appended, 10), got)
	}
}

// newestFirst returns the last n of es, newest first.
func newestFirst(es []trains.AuditEntry, n int) []trains.AuditEntry {
	out := make([]trains.AuditEntry, 0, n)
	for i := len(es) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, es[i])
	}
	return out
}
