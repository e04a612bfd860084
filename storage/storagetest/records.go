package storagetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func testSignOffs(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	const id = trains.TrainID("staging-2026-12-02")
	got, err := h.Store.SignOffs(ctx, id, trains.Approval)
	must(t, "sign-offs of a train without any", err)
	diff(t, "sign-offs of a train without any", []trains.SignOffRecord{}, got)

	dev4 := func(user string, i int) trains.SignOffRecord {
		return trains.SignOffRecord{User: user, At: T0.Add(time.Duration(i) * time.Minute), Promotes: "v0.5.0-dev.4", Commit: "c4"}
	}
	dev5 := func(user string, i int) trains.SignOffRecord {
		return trains.SignOffRecord{User: user, At: T0.Add(time.Duration(i) * time.Minute), Promotes: "v0.5.0-dev.5", Commit: "c5",
			Without: []string{"v0.5.0-hotfix.1"}}
	}
	for i, tc := range []struct {
		kind      trains.SignOffKind
		r         trains.SignOffRecord
		wantAdded bool
	}{
		{trains.Approval, dev4("U2", 0), true},
		{trains.Approval, dev4("U1", 1), true},
		{trains.Approval, dev4("U2", 2), false}, // a double click counts once
		{trains.Confirmation, trains.SignOffRecord{User: "U2", At: T0.Add(3 * time.Minute)}, true},
		{trains.Approval, dev4("U3", 4), true},
		{trains.Approval, dev5("U3", 5), true},  // another candidate replaces U3's approval
		{trains.Approval, dev5("U3", 6), false}, // and counts once too
	} {
		added, err := h.Store.AddSignOff(ctx, id, tc.kind, tc.r)
		must(t, "add sign-off", err)
		if added != tc.wantAdded {
			t.Errorf("sign-off %d (%s by %s): added = %v, want %v", i, tc.kind, tc.r.User, added, tc.wantAdded)
		}
	}
	got, err = h.Store.SignOffs(ctx, id, trains.Approval)
	must(t, "approvals", err)
	diff(t, "approvals, oldest first, one per user", []trains.SignOffRecord{dev4("U2", 0), dev4("U1", 1), dev5("U3", 5)}, got)
	got, err = h.Store.SignOffs(ctx, id, trains.Confirmation)
	must(t, "confirmations", err)
	diff(t, "confirmations", []trains.SignOffRecord{{User: "U2", At: T0.Add(3 * time.Minute)}}, got)
	got, err = h.Store.SignOffs(ctx, "staging-2026-12-09", trains.Approval)
	must(t, "approvals of another train", err)
	diff(t, "approvals of another train", []trains.SignOffRecord{}, got)

	// A cut uses up what it read: U2's and U1's approvals of dev.4, and
	// U3's of dev.4, which U3 has replaced since: U3's stays.
	must(t, "remove sign-offs", h.Store.RemoveSignOffs(ctx, id, trains.Approval, []trains.SignOffRecord{dev4("U2", 0), dev4("U1", 1), dev4("U3", 4)}))
	got, err = h.Store.SignOffs(ctx, id, trains.Approval)
	must(t, "approvals after removing", err)
	diff(t, "approvals after removing", []trains.SignOffRecord{dev5("U3", 5)}, got)
	must(t, "remove none", h.Store.RemoveSignOffs(ctx, id, trains.Approval, nil))
	must(t, "remove from a train without any", h.Store.RemoveSignOffs(ctx, "staging-2026-12-23", trains.Approval, []trains.SignOffRecord{dev4("U2", 0)}))
	got, err = h.Store.SignOffs(ctx, id, trains.Confirmation)
	must(t, "confirmations after removing approvals", err)
	diff(t, "confirmations after removing approvals", []trains.SignOffRecord{{User: "U2", At: T0.Add(3 * time.Minute)}}, got)
	added, err := h.Store.AddSignOff(ctx, id, trains.Approval, dev4("U2", 7))
	must(t, "approve again after a cut used it", err)
	if !added {
		t.Error("an approval used up by a cut still counted as given")
	}
}

// testSignOffRace: one validator's approval clicked 100 times at once is
// added once; a cut using it up at the same time as a second approval of
// another candidate leaves that second one.
func testSignOffRace(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	const id = trains.TrainID("staging-2026-12-16")
	r := trains.SignOffRecord{User: "U1", At: T0, Promotes: "v0.5.0-dev.4", Commit: "c4"}
	n := winners(t, 100, "add sign-off", func(int) (bool, error) { return h.Store.AddSignOff(ctx, id, trains.Approval, r) })
	if n != 1 {
		t.Fatalf("%d of 100 concurrent identical approvals were added, want exactly 1", n)
	}
	newer := trains.SignOffRecord{User: "U1", At: T0.Add(time.Minute), Promotes: "v0.5.0-dev.5", Commit: "c5"}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := h.Store.RemoveSignOffs(ctx, id, trains.Approval, []trains.SignOffRecord{r}); err != nil {
			t.Errorf("use up: %v", err)
		}
	})
	wg.Go(func() {
		if _, err := h.Store.AddSignOff(ctx, id, trains.Approval, newer); err != nil {
			t.Errorf("approve the newer candidate: %v", err)
		}
	})
	wg.Wait()
	got, err := h.Store.SignOffs(ctx, id, trains.Approval)
	must(t, "approvals", err)
	diff(t, "the newer approval survives the cut using up the older", []trains.SignOffRecord{newer}, got)
}

func audit(i int, train trains.TrainID) trains.AuditEntry {
	return trains.AuditEntry{At: T0.Add(time.Duration(i) * time.Second), User: "U1", Action: fmt.Sprintf("action %d", i), Train: train, Result: "ok"}
}

func testAudit(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	got, err := h.Store.AuditLog(ctx, "", 10)
	must(t, "empty audit log", err)
	diff(t, "empty audit log", []trains.AuditEntry{}, got)

	var all []trains.AuditEntry
	for i := range 6 {
		train := trains.TrainID("")
		switch i % 3 {
		case 1:
			train = "dev-2026-12-01"
		case 2:
			train = "staging-2026-12-02"
		}
		e := audit(i, train)
		if i == 4 {
			e.At = T0 // an entry's time does not reorder the log
		}
		all = append(all, e)
		must(t, "audit", h.Store.Audit(ctx, e))
	}
	rev := func(es ...trains.AuditEntry) []trains.AuditEntry { return es }

	got, err = h.Store.AuditLog(ctx, "", 3)
	must(t, "audit log", err)
	diff(t, "newest 3, newest first", rev(all[5], all[4], all[3]), got)
	got, err = h.Store.AuditLog(ctx, "", 0)
	must(t, "whole audit log", err)
	diff(t, "whole audit log, newest first", rev(all[5], all[4], all[3], all[2], all[1], all[0]), got)
	got, err = h.Store.AuditLog(ctx, "dev-2026-12-01", 10)
	must(t, "audit log of a train", err)
	diff(t, "audit log of a train", rev(all[4], all[1]), got)
	got, err = h.Store.AuditLog(ctx, "staging-2026-12-02", 1)
	must(t, "audit log of a train", err)
	diff(t, "newest entry of a train", rev(all[5]), got)
	got, err = h.Store.AuditLog(ctx, "hotfix-2026-12-03", 10)
	must(t, "audit log of a train without entries", err)
	diff(t, "audit log of a train without entries", []trains.AuditEntry{}, got)
}

func deploy(run int64, minutes int, ref string) trains.DeployRecord {
	return trains.DeployRecord{RunID: run, At: T0.Add(time.Duration(minutes) * time.Minute), Ref: ref, URL: fmt.Sprintf("https://github.com/o/r/actions/runs/%d", run)}
}

func testDeploys(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	got, err := h.Store.Deploys(ctx, T0, T0.Add(time.Hour))
	must(t, "deploys of an empty store", err)
	diff(t, "deploys of an empty store", []trains.DeployRecord{}, got)

	tagged := deploy(1<<40, 30, "v0.5.0-dev.4")
	tagged.Track = "dev"
	for _, d := range []trains.DeployRecord{deploy(3, 10, "main"), tagged, deploy(2, 0, "main"), deploy(4, 60, "main")} {
		must(t, "record deploy", h.Store.RecordDeploy(ctx, d))
	}
	done := tagged
	done.Conclusion = "success"
	done.At = tagged.At.Add(-25 * time.Minute)
	must(t, "record a run again", h.Store.RecordDeploy(ctx, done))

	got, err = h.Store.Deploys(ctx, T0, T0.Add(time.Hour))
	must(t, "deploys", err)
	diff(t, "deploys from <= At < to, oldest first, re-record replaced", []trains.DeployRecord{deploy(2, 0, "main"), done, deploy(3, 10, "main")}, got)
	got, err = h.Store.Deploys(ctx, T0.Add(time.Minute), T0.Add(61*time.Minute))
	must(t, "deploys", err)
	diff(t, "deploys in a later range", []trains.DeployRecord{done, deploy(3, 10, "main"), deploy(4, 60, "main")}, got)
}
