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

// latest is the latest version of a post's message.
func latest(p trainstest.Post) trains.Message {
	if len(p.Edits) > 0 {
		return p.Edits[len(p.Edits)-1]
	}
	return p.Message
}

// buttons lists a message's buttons as "id: command".
func buttons(m trains.Message) []string {
	var out []string
	for _, b := range m.Blocks {
		for _, btn := range b.Buttons {
			out = append(out, btn.ID+": "+btn.Command)
		}
	}
	return out
}

// announcement is the top message of train tr.
func (e *unitEnv) announcement(tr trains.Train) trains.Message {
	e.t.Helper()
	for _, p := range e.ann.Top() {
		if p.Ref == tr.Message {
			return latest(p)
		}
	}
	e.t.Fatalf("no announcement of %s", tr.ID)
	return trains.Message{}
}

// failedDevTrain cuts a dev train whose deploy run fails.
func failedDevTrain(t *testing.T, edit ...func(*trains.ServiceConfig)) (*unitEnv, trains.Train) {
	e := newUnitEnv(t, at("2026-12-01 14:00"), edit...)
	e.repo.AddCommits("main", 1)
	e.repo.SetDeploy("failure")
	tr := e.cutAndWait()
	if tr.State != trains.Failed || tr.DeployRunID == 0 {
		t.Fatalf("train = %s, run %d: want a failed deploy run", tr.State, tr.DeployRunID)
	}
	return e, tr
}

// A failed deploy's announcement carries Retry deploy and Roll back; a
// retry dispatches the same tag again, follows the new run, keeps the
// failed one as an attempt and ends deployed, without the buttons.
func TestUnitRetryDeploysTheSameTagAgain(t *testing.T) {
	t.Parallel()
	e, failed := failedDevTrain(t)
	want := []string{"retry: retry dev-2026-12-01", "rollback: rollback " + failed.Tag + " rolled back from dev-2026-12-01's announcement"}
	if diff := cmp.Diff(want, buttons(e.announcement(failed))); diff != "" {
		t.Errorf("buttons of the failed train (-want +got):\n%s", diff)
	}
	e.repo.SetDeploy("success")
	e.clock.Advance(3 * time.Minute)
	res, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: "dev-2026-12-01", By: releaser})
	if err != nil || res.Outcome != trains.RetryStarted {
		t.Fatalf("retry = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(failed.ID)
	if tr.State != trains.Deployed || tr.DeployRunID == failed.DeployRunID || tr.Error != "" {
		t.Errorf("after the retry: %s, run %d (failed run %d), error %q", tr.State, tr.DeployRunID, failed.DeployRunID, tr.Error)
	}
	wantAttempts := []trains.Attempt{{N: 1, RunID: failed.DeployRunID, URL: failed.DeployURL, DispatchedAt: failed.DispatchedAt,
		By: releaser, Outcome: failed.Error, RetriedBy: releaser, RetriedAt: at("2026-12-01 14:03")}}
	if diff := cmp.Diff(wantAttempts, tr.Attempts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	ds := e.repo.Dispatches()
	if len(ds) != 2 || ds[0].Ref != ds[1].Ref || ds[1].Ref != failed.Tag {
		t.Errorf("dispatches = %+v, want two of %s", ds, failed.Tag)
	}
	if b := buttons(e.announcement(tr)); len(b) != 0 {
		t.Errorf("a deployed train keeps buttons %v", b)
	}
	if text := e.announcement(tr).Plain(); !strings.Contains(text, "Earlier attempts") || !strings.Contains(text, "retried by") {
		t.Errorf("the announcement does not show the failed attempt:\n%s", text)
	}
	thread := e.ann.Thread(tr.Message)
	var said []string
	for _, p := range thread {
		said = append(said, p.Text())
	}
	all := strings.Join(said, "\n")
	for _, s := range []string{"retried the deploy: attempt 2 of", "Following the deploy run: run " + itoa(tr.DeployRunID), "is deployed to dev"} {
		if !strings.Contains(all, s) {
			t.Errorf("the thread does not say %q:\n%s", s, all)
		}
	}
	if _, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: "dev-2026-12-01", By: releaser}); !userErrSays(err, "only a failed train's deploy can be retried") {
		t.Errorf("retry of a deployed train: %v", err)
	}
	log, _ := e.store.AuditLog(t.Context(), failed.ID, 20)
	if !hasAudit(log, releaser, "retry", "ok") {
		t.Errorf("the retry is not in the audit log: %+v", log)
	}
}

// Two clicks at once on the same failure make one retry: one dispatch; the
// other is told it was already retried.
func TestUnitRetryTwiceAtOnceDispatchesOnce(t *testing.T) {
	t.Parallel()
	e, failed := failedDevTrain(t)
	e.repo.SetDeploy("success")
	var wg sync.WaitGroup
	outcomes := make([]trains.RetryOutcome, 4)
	errs := make([]error, 4)
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.svc.Retry(context.Background(), trains.RetryRequest{Train: string(failed.ID), By: releaser})
			outcomes[i], errs[i] = res.Outcome, err
		}()
	}
	wg.Wait()
	e.svc.Wait()
	started := 0
	for i := range outcomes {
		switch {
		case errs[i] == nil && outcomes[i] == trains.RetryStarted:
			started++
		case errs[i] == nil && outcomes[i] == trains.RetryAlready:
		case userErrSays(errs[i], "already being retried"), userErrSays(errs[i], "is deployed"):
		default:
			t.Errorf("click %d: %v, %v", i, outcomes[i], errs[i])
		}
	}
	if started != 1 {
		t.Errorf("%d retries started, want 1", started)
	}
	if n := len(e.repo.Dispatches()); n != 2 {
		t.Errorf("%d dispatches, want 2 (the first and one retry)", n)
	}
	if tr := e.train(failed.ID); tr.State != trains.Deployed || len(tr.Attempts) != 1 {
		t.Errorf("train = %s with %d earlier attempts", tr.State, len(tr.Attempts))
	}
}

// A retry is refused, saying why and changing nothing: for want of the
// role, for a train that failed before its deploy, for a train a later one
// of its track came after.
func TestUnitRetryRefusals(t *testing.T) {
	t.Parallel()
	t.Run("role", func(t *testing.T) {
		t.Parallel()
		e, failed := failedDevTrain(t)
		_, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: string(failed.ID), By: validator})
		var ue *trains.UserError
		if !errors.As(err, &ue) || !ue.Forbidden || !strings.Contains(ue.Error(), "releasers or the train's on-call") {
			t.Errorf("retry by a validator: %v", err)
		}
		if n := len(e.repo.Dispatches()); n != 1 {
			t.Errorf("%d dispatches, want 1", n)
		}
	})
	t.Run("before the deploy", func(t *testing.T) {
		t.Parallel()
		e := newUnitEnv(t, at("2026-12-01 14:00"))
		e.repo.AddCommits("main", 1)
		e.repo.SetPublish("failure")
		tr := e.cutAndWait()
		if b := buttons(e.announcement(tr)); len(b) != 0 {
			t.Errorf("a train that failed before its deploy has buttons %v", b)
		}
		_, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: string(tr.ID), By: releaser})
		if !userErrSays(err, "failed before its deploy was dispatched") {
			t.Errorf("retry: %v", err)
		}
	})
	t.Run("a later train", func(t *testing.T) {
		t.Parallel()
		e, failed := failedDevTrain(t)
		e.repo.SetDeploy("success")
		e.repo.AddCommits("main", 1)
		e.clock.Advance(time.Hour)
		if tr := e.cutAndWait(); tr.State != trains.Deployed {
			t.Fatalf("second train %s", tr.State)
		}
		_, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: string(failed.ID), By: releaser})
		if !userErrSays(err, "would deploy an older tag over it") {
			t.Errorf("retry: %v", err)
		}
	})
}

// A crash in the middle of a retry resumes like a cut: the retry stored,
// its dispatch not made (GitHub answered 502), the next tick dispatches
// once and follows the new run; the earlier attempt's run, still the
// newest on the tag, is not taken for it.
func TestUnitRetryResumesAfterACrash(t *testing.T) {
	t.Parallel()
	// The track's lock outlasts the minute the test clock is moved on.
	e, failed := failedDevTrain(t, func(c *trains.ServiceConfig) { c.LockTTL = time.Hour })
	e.repo.SetDeploy("success")
	e.repo.FailNext("Dispatch", errors.New("502 bad gateway"))
	if res, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: string(failed.ID), By: releaser}); err != nil || res.Outcome != trains.RetryStarted {
		t.Fatalf("retry = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(failed.ID)
	if tr.State != trains.Deploying || tr.DispatchedAt.IsZero() || tr.DeployRunID != 0 {
		t.Fatalf("after the failed dispatch: %s, dispatched %v, run %d", tr.State, tr.DispatchedAt, tr.DeployRunID)
	}
	// The resumer looks for the run of the dispatch that may have been
	// made: the newest on the tag is the failed attempt's, so it looks
	// again for a minute before dispatching.
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
	tr = e.train(failed.ID)
	if tr.State != trains.Deployed || tr.DeployRunID == failed.DeployRunID || len(tr.Attempts) != 1 {
		t.Errorf("after the resume: %s, run %d, %d earlier attempts", tr.State, tr.DeployRunID, len(tr.Attempts))
	}
	if n := len(e.repo.Dispatches()); n != 2 {
		t.Errorf("%d dispatches, want 2", n)
	}
}

// A crash after the retry's dispatch, before its run was stored, finds
// that run on resume and does not dispatch again.
func TestUnitRetryResumeFindsTheDispatchedRun(t *testing.T) {
	t.Parallel()
	e, failed := failedDevTrain(t)
	e.repo.SetDeploy("success")
	e.repo.FailNext("FindDeployRun", errors.New("connection reset"))
	if res, err := e.svc.Retry(t.Context(), trains.RetryRequest{Train: string(failed.ID), By: releaser}); err != nil || res.Outcome != trains.RetryStarted {
		t.Fatalf("retry = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if tr := e.train(failed.ID); tr.State != trains.Deploying || tr.DeployRunID != 0 {
		t.Fatalf("after the lost answer: %s, run %d", tr.State, tr.DeployRunID)
	}
	e.tick()
	e.svc.Wait()
	if tr := e.train(failed.ID); tr.State != trains.Deployed || tr.DeployRunID == failed.DeployRunID {
		t.Errorf("after the resume: %s, run %d", tr.State, tr.DeployRunID)
	}
	if n := len(e.repo.Dispatches()); n != 2 {
		t.Errorf("%d dispatches, want 2", n)
	}
}

// A deployed train whose tag was not seen live (Live set by the live
// verification) carries Roll back, and no Retry: its run succeeded.
func TestUnitUnverifiedTrainHasRollBack(t *testing.T) {
	t.Parallel()
	svc := trains.NewService(unitConfig(), trains.Deps{})
	tr := trains.Train{ID: "staging-2026-12-09", Track: trains.Staging, State: trains.Deployed, Tag: "v0.5.0-staging.2",
		DeployRunID: 7, DispatchedAt: at("2026-12-09 14:00"), Live: trains.Unverified}
	want := []string{"rollback: rollback v0.5.0-staging.2 rolled back from staging-2026-12-09's announcement"}
	if diff := cmp.Diff(want, buttons(svc.Announcement(tr))); diff != "" {
		t.Errorf("buttons (-want +got):\n%s", diff)
	}
	tr.Live = trains.Verified
	if b := buttons(svc.Announcement(tr)); len(b) != 0 {
		t.Errorf("a verified train has buttons %v", b)
	}
}

// userErrSays reports whether err is a *UserError saying s.
func userErrSays(err error, s string) bool {
	var ue *trains.UserError
	return errors.As(err, &ue) && strings.Contains(ue.Error(), s)
}

// hasAudit reports whether log has an entry of user's action whose result
// begins with result.
func hasAudit(log []trains.AuditEntry, user, action, result string) bool {
	for _, a := range log {
		if a.User == user && a.Action == action && strings.HasPrefix(a.Result, result) {
			return true
		}
	}
	return false
}
