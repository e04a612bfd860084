package trains_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

func TestPreviousDeploy(t *testing.T) {
	t.Parallel()
	n := int64(0)
	run := func(ref, conclusion string) trains.Run {
		n++
		return trains.Run{ID: n, Ref: ref, Status: "completed", Conclusion: conclusion}
	}
	const s1, s2, s3, h1, d1 = "v0.5.0-staging.1", "v0.5.0-staging.2", "v0.5.0-staging.3", "v0.5.0-hotfix.1", "v0.6.0-dev.1"
	for _, tc := range []struct {
		name string
		// runs oldest first
		runs          []trains.Run
		current, prev string
	}{
		{"none", nil, "", ""},
		{"only one tag", []trains.Run{run(s1, "success"), run(s1, "success")}, s1, ""},
		{"two tags", []trains.Run{run(s1, "success"), run(s2, "success")}, s2, s1},
		{"other environments and refs pass", []trains.Run{run(s1, "success"), run(d1, "success"), run(s2, "success"), run("main", "success"), run(d1, "failure")}, s2, s1},
		{"a rolled back tag is gone", []trains.Run{run(s1, "success"), run(s2, "success"), run(s1, "success")}, s1, ""},
		{"rolled back twice", []trains.Run{run(s1, "success"), run(s2, "success"), run(s3, "success"), run(s2, "success")}, s2, s1},
		{"the newest run failed", []trains.Run{run(s1, "success"), run(s2, "success"), run(s3, "failure")}, s3, s2},
		{"an older failure passes", []trains.Run{run(s1, "success"), run(s2, "failure"), run(s3, "success")}, s3, s1},
		{"a cancelled run passes but for the newest", []trains.Run{run(s1, "success"), run(s2, "cancelled"), run(s3, "success")}, s3, s1},
		{"hotfixes deploy to staging", []trains.Run{run(s1, "success"), run(s2, "success"), run(h1, "success")}, h1, s2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newest := make([]trains.Run, len(tc.runs))
			for i, r := range tc.runs {
				newest[len(tc.runs)-1-i] = r
			}
			cur, prev, ok := trains.PreviousDeploy(newest, "staging")
			if cur.Tag != tc.current || prev.Tag != tc.prev || ok != (tc.prev != "") {
				t.Errorf("PreviousDeploy = %q, %q, %v; want %q, %q", cur.Tag, prev.Tag, ok, tc.current, tc.prev)
			}
		})
	}
}

// rollbackEnv has staging.1 and staging.2 deployed to staging by earlier
// runs (made before trainbot: no train records them), staging.2 two
// commits beyond staging.1.
func rollbackEnv(t *testing.T, edit ...func(*trains.ServiceConfig)) (*unitEnv, string) {
	e := newUnitEnv(t, at("2026-12-09 10:00"), edit...)
	c1 := e.repo.AddCommit("main", "the good one", time.Time{})
	e.repo.AddTag("v0.5.0-staging.1", c1)
	c3 := e.repo.AddCommits("main", 2)[1]
	e.repo.AddTag("v0.5.0-staging.2", c3)
	for _, tag := range []string{"v0.5.0-staging.1", "v0.5.0-staging.2"} {
		e.repo.CompleteRun(e.repo.StartRun(trainstest.DeployWorkflow, tag, e.repo.Tag(tag), "workflow_dispatch"), "success")
	}
	return e, c1
}

// A rollback of staging deploys the tag deployed before the current one,
// with staging's inputs, as a train of its own: announced, in history,
// the calendar and the stats. It makes no tag.
func TestUnitRollbackDeploysThePreviousTag(t *testing.T) {
	t.Parallel()
	e, c1 := rollbackEnv(t)
	tags := len(e.repo.AllTags())
	res, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "the migration broke", By: releaser})
	if err != nil || res.Outcome != trains.RollbackStarted {
		t.Fatalf("rollback = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train("rollback-2026-12-09")
	if tr.State != trains.Deployed || tr.Tag != "v0.5.0-staging.1" || tr.Commit != c1 || tr.RollsBack != "v0.5.0-staging.2" || tr.Track != trains.Staging {
		t.Errorf("rollback train = %s %s on %s from %s (%s)", tr.State, tr.Tag, tr.Commit, tr.RollsBack, tr.Track)
	}
	want := []trainstest.Dispatch{{Ref: "v0.5.0-staging.1", Inputs: map[string]string{"environment": "staging", "release_type": "staging"}, At: at("2026-12-09 10:00")}}
	if diff := cmp.Diff(want, e.repo.Dispatches()); diff != "" {
		t.Errorf("dispatches (-want +got):\n%s", diff)
	}
	if n := len(e.repo.AllTags()); n != tags {
		t.Errorf("%d tags, want %d: a rollback makes none", n, tags)
	}
	text := e.announcement(tr).Plain()
	for _, s := range []string{"Rollback of staging to v0.5.0-staging.1", "Rolls back", "Takes back out: 2 commits of v0.5.0-staging.2", "the migration broke"} {
		if !strings.Contains(text, s) {
			t.Errorf("the announcement does not say %q:\n%s", s, text)
		}
	}
	if st, err := e.svc.Stats(t.Context(), 24*time.Hour); err != nil || st.Rollbacks != 1 {
		t.Errorf("stats: %d rollbacks, %v", st.Rollbacks, err)
	}
	if h, err := e.svc.History(t.Context(), 5); err != nil || len(h) != 1 || h[0].ID != tr.ID {
		t.Errorf("history = %v, %v", h, err)
	}
	cal, err := e.svc.Calendar(t.Context(), trains.CalendarOptions{})
	if err != nil || len(cal.Rollbacks) != 1 || !strings.Contains(cal.Markdown(nil), "rollback-2026-12-09: v0.5.0-staging.2 back to v0.5.0-staging.1") {
		t.Errorf("calendar rollbacks = %v, %v:\n%s", cal.Rollbacks, err, cal.Markdown(nil))
	}
	log, _ := e.store.AuditLog(t.Context(), tr.ID, 20)
	if !hasAudit(log, releaser, "rollback staging", "ok") {
		t.Errorf("the rollback is not in the audit log: %+v", log)
	}
	// Rolled back to staging.1, staging has no earlier tag: a second
	// rollback is refused, saying why.
	_, err = e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "again", By: releaser})
	if !userErrSays(err, "v0.5.0-staging.1 is the only train tag deployed to staging") {
		t.Errorf("second rollback: %v", err)
	}
	if n := len(e.repo.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}

// A dry run says which tag, which commit and what it takes back out, and
// changes nothing.
func TestUnitRollbackDryRun(t *testing.T) {
	t.Parallel()
	e, c1 := rollbackEnv(t)
	res, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "check", By: validator, DryRun: true})
	if err != nil || res.Outcome != trains.RollbackPreview {
		t.Fatalf("dry run = %v, %v", res.Outcome, err)
	}
	if res.Previous.Tag != "v0.5.0-staging.1" || res.Current.Tag != "v0.5.0-staging.2" || res.Commit.SHA != c1 || res.Out.Total != 2 || len(res.Out.Commits) != 2 {
		t.Errorf("preview = %s → %s on %s, %d out", res.Current.Tag, res.Previous.Tag, res.Commit.SHA, res.Out.Total)
	}
	if n := len(e.repo.Dispatches()); n != 0 {
		t.Errorf("a dry run dispatched %d times", n)
	}
	if h, _ := e.svc.History(t.Context(), 5); len(h) != 0 {
		t.Errorf("a dry run recorded %v", h)
	}
}

// A rollback is refused, saying why and doing nothing: with no earlier
// tag, for want of the role, without a reason; a quiet window does not
// hold it, but it is announced loudly.
func TestUnitRollbackRefusalsAndQuietWindow(t *testing.T) {
	t.Parallel()
	t.Run("no earlier tag", func(t *testing.T) {
		t.Parallel()
		e := newUnitEnv(t, at("2026-12-09 10:00"))
		_, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "why", By: releaser})
		if !userErrSays(err, "no run of "+trainstest.DeployWorkflow+" on a train tag to staging") {
			t.Errorf("rollback with no deploys: %v", err)
		}
		c := e.repo.AddCommits("main", 1)[0]
		e.repo.AddTag("v0.5.0-dev.1", c)
		e.repo.CompleteRun(e.repo.StartRun(trainstest.DeployWorkflow, "v0.5.0-dev.1", c, "workflow_dispatch"), "success")
		_, err = e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Dev, Reason: "why", By: releaser})
		if !userErrSays(err, "v0.5.0-dev.1 is the only train tag deployed to dev") {
			t.Errorf("rollback with one deploy: %v", err)
		}
		log, _ := e.store.AuditLog(t.Context(), "", 20)
		if !hasAudit(log, releaser, "rollback dev", "refused") {
			t.Errorf("the refusal is not in the audit log: %+v", log)
		}
	})
	t.Run("role", func(t *testing.T) {
		t.Parallel()
		e, _ := rollbackEnv(t)
		_, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "why", By: validator})
		var ue *trains.UserError
		if !errors.As(err, &ue) || !ue.Forbidden {
			t.Errorf("rollback by a validator: %v", err)
		}
		if n := len(e.repo.Dispatches()); n != 0 {
			t.Errorf("%d dispatches", n)
		}
	})
	t.Run("reason", func(t *testing.T) {
		t.Parallel()
		e, _ := rollbackEnv(t)
		if _, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, By: releaser}); !userErrSays(err, "a rollback needs a reason") {
			t.Errorf("rollback without a reason: %v", err)
		}
	})
	t.Run("quiet window", func(t *testing.T) {
		t.Parallel()
		e, _ := rollbackEnv(t)
		w := trains.Window{ID: "w1", From: at("2026-12-09 09:00"), Until: at("2026-12-09 18:00"), Reason: "mainnet upgrade", By: chainOps, Created: at("2026-12-09 09:00")}
		if err := e.store.PutWindow(t.Context(), w); err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "broken", By: releaser})
		if err != nil || res.Outcome != trains.RollbackStarted || !res.InWindow() {
			t.Fatalf("rollback in a window = %v, %v, window %q", res.Outcome, err, res.Window.ID)
		}
		e.svc.Wait()
		tr := e.train(res.Train.ID)
		if text := e.announcement(tr).Plain(); tr.Window != "w1" || !strings.Contains(text, "this rollback goes out anyway") {
			t.Errorf("window %q; announcement:\n%s", tr.Window, text)
		}
	})
}

// Two rollbacks at once from the same deploy (two clicks of Roll back)
// make one: the others are refused, or find the track busy.
func TestUnitRollbackTwiceAtOnceDispatchesOnce(t *testing.T) {
	t.Parallel()
	e, _ := rollbackEnv(t)
	var wg sync.WaitGroup
	started := make(chan trains.TrainID, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.svc.Rollback(context.Background(), trains.RollbackRequest{Track: trains.Staging, Reason: "broken", By: releaser})
			switch {
			case err == nil && res.Outcome == trains.RollbackStarted:
				started <- res.Train.ID
			// The first may be on its way when another looks (it
			// deploys to staging), or have ended: then staging.1 runs
			// and there is nothing under it.
			case err == nil && res.Outcome == trains.RollbackBusy, userErrSays(err, "was already started"), userErrSays(err, "is the only train tag"),
				userErrSays(err, "is deploying v0.5.0-staging.1 to staging now"):
			default:
				t.Errorf("rollback: %v, %v", res.Outcome, err)
			}
		}()
	}
	wg.Wait()
	e.svc.Wait()
	close(started)
	if n := len(started); n != 1 {
		t.Errorf("%d rollbacks started, want 1", n)
	}
	if n := len(e.repo.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}

// A crash in the middle of a rollback resumes like a cut: its dispatch
// not made (GitHub answered 502), the next tick dispatches once; the run
// that deployed its tag before is never taken for the rollback's, though
// it is the newest on the tag.
func TestUnitRollbackResumesAfterACrash(t *testing.T) {
	t.Parallel()
	e, _ := rollbackEnv(t, func(c *trains.ServiceConfig) { c.LockTTL = time.Hour })
	old := e.repo.Runs(trainstest.DeployWorkflow)[0].ID
	e.repo.FailNext("Dispatch", errors.New("502 bad gateway"))
	res, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "broken", By: releaser})
	if err != nil || res.Outcome != trains.RollbackStarted {
		t.Fatalf("rollback = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(res.Train.ID)
	if tr.State != trains.Deploying || tr.DeployRunID != 0 || tr.EarlierRun != old {
		t.Fatalf("after the failed dispatch: %s, run %d, earlier run %d (want %d)", tr.State, tr.DeployRunID, tr.EarlierRun, old)
	}
	go func() {
		for range 11 {
			if err := e.clock.WaitAlarm(t.Context(), e.clock.Now().Add(5*time.Second)); err != nil {
				return
			}
			e.clock.Advance(5 * time.Second)
		}
	}()
	e.tick()
	e.svc.Wait()
	tr = e.train(res.Train.ID)
	if tr.State != trains.Deployed || tr.DeployRunID == old || tr.DeployRunID == 0 {
		t.Errorf("after the resume: %s, run %d (the tag's earlier run is %d)", tr.State, tr.DeployRunID, old)
	}
	if n := len(e.repo.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}
