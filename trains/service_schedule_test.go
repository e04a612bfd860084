package trains_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func tick(t *testing.T, e *env) {
	t.Helper()
	if err := e.svc.Tick(t.Context()); err != nil {
		t.Fatalf("tick: %v", err)
	}
}

func countTop(e *env, s string) int {
	n := 0
	for _, p := range e.ann.Top() {
		if strings.Contains(p.Text(), s) {
			n++
		}
	}
	return n
}

func TestRemindersOnceEachAndNotLate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-11-30 14:00"))
	ctx := t.Context()
	if err := e.svc.SetRotation(ctx, releaser, []string{"UANA", "UBOB"}); err != nil {
		t.Fatal(err)
	}
	e.gh.AddTag("v0.5.0-dev.1", e.gh.Head("main"))
	e.gh.AddCommits("main", 2)
	tick(t, e)
	tick(t, e)
	if n := countTop(e, "Dev train dev-2026-12-01"); n != 1 {
		t.Fatalf("%d reminders after two ticks at T-24h, want 1", n)
	}
	rem, _ := e.ann.Find("Dev train dev-2026-12-01")
	for _, want := range []string{"<@UANA>", "v0.5.0-dev.2", "2 commits since v0.5.0-dev.1", "/train confirm dev-2026-12-01", "/train skip dev-2026-12-01"} {
		if !strings.Contains(rem.Text(), want) {
			t.Errorf("reminder lacks %q:\n%s", want, rem.Text())
		}
	}
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Announced || tr.OnCall != "UANA" || tr.Reminder.TS == "" {
		t.Errorf("train after reminder: %+v", tr)
	}
	e.clock.Set(at("2026-12-01 13:00"))
	tick(t, e)
	tick(t, e)
	if n := countTop(e, "Dev train dev-2026-12-01"); n != 2 {
		t.Errorf("%d reminders after T-1h, want 2", n)
	}
	// "I'm on it" edits the latest reminder in place.
	if _, err := e.svc.Confirm(ctx, "UANA", "next-dev"); err != nil {
		t.Fatal(err)
	}
	tr := e.train("dev-2026-12-01")
	var latest trains.Message
	for _, p := range e.ann.Posts() {
		if p.Ref == tr.Reminder && len(p.Edits) > 0 {
			latest = p.Edits[len(p.Edits)-1]
		}
	}
	if !strings.Contains(latest.Plain(), "<@UANA> is on it") {
		t.Errorf("reminder not updated after confirm: %q", latest.Plain())
	}

	late := newEnv(t, at("2026-12-01 13:30")) // the 24h reminder was never sent
	tick(t, late)
	if n := len(late.ann.Top()); n != 1 {
		t.Errorf("%d reminders when starting at T-30m, want 1 (the 1h one)", n)
	}
}

func TestUnconfirmedTrainIsSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 14:00"))
	e.gh.AddCommits("main", 1)
	tick(t, e)
	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Skipped || !strings.Contains(tr.Reason, "nobody confirmed") {
		t.Errorf("train = %s %q", tr.State, tr.Reason)
	}
	if countTop(e, "skipped") != 1 || len(e.gh.Dispatches()) != 0 {
		t.Errorf("skip not announced once, or something dispatched")
	}
	tick(t, e)
	if countTop(e, "skipped") != 1 {
		t.Errorf("skip announced twice")
	}
}

func TestConfirmedTrainIsCutAtItsSlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 12:00"))
	ctx := t.Context()
	e.gh.AddCommits("main", 1)
	if _, err := e.svc.Confirm(ctx, releaser, "dev-2026-12-01"); err != nil {
		t.Fatal(err)
	}
	tick(t, e) // 12:00: nothing due but the 24h/1h reminders
	if len(e.gh.Dispatches()) != 0 {
		t.Fatal("cut before the slot")
	}
	e.clock.Set(at("2026-12-01 14:00"))
	tick(t, e)
	e.svc.Wait()
	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Deployed || tr.CutBy != releaser || tr.OffSchedule {
		t.Errorf("train = %+v", tr)
	}
	if len(e.gh.Dispatches()) != 1 {
		t.Errorf("dispatches = %d", len(e.gh.Dispatches()))
	}
}

func TestQuietWindowPostponesThenSkips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 12:00"))
	ctx := t.Context()
	e.gh.AddCommits("main", 1)
	if _, err := e.svc.Confirm(ctx, releaser, "next-dev"); err != nil {
		t.Fatal(err)
	}
	pr, err := e.svc.Pause(ctx, trains.PauseRequest{From: at("2026-12-01 13:00"), Until: at("2026-12-01 16:00"), Reason: "re-roll", By: chainOps})
	if err != nil || len(pr.Affected) != 1 || pr.Affected[0].Decision.Action != trains.Postpone {
		t.Fatalf("pause = %+v, %v", pr, err)
	}
	e.clock.Set(at("2026-12-01 14:00"))
	tick(t, e)
	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Postponed || !tr.At.Equal(at("2026-12-01 16:00")) || tr.Window != pr.Window.ID || tr.Moves != 1 {
		t.Fatalf("train = %s at %s window %q moves %d", tr.State, tr.At, tr.Window, tr.Moves)
	}
	if countTop(e, "Postponed to") != 1 {
		t.Errorf("postponement not announced once")
	}
	e.clock.Set(at("2026-12-01 16:00"))
	tick(t, e)
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed || !tr.PostponedFrom.Equal(at("2026-12-01 14:00")) {
		t.Errorf("postponed train at its new time: %s from %s", tr.State, tr.PostponedFrom)
	}
	st, err := e.svc.Stats(ctx, 30*24*time.Hour)
	if err != nil || st.Postponed != 1 || st.Deployed != 1 {
		t.Errorf("stats = %+v, %v", st, err)
	}

	// A window past the next slot skips the train.
	e.clock.Set(at("2026-12-08 10:00"))
	if _, err := e.svc.Pause(ctx, trains.PauseRequest{Until: at("2026-12-16 00:00"), Reason: "freeze", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-08 14:00"))
	tick(t, e)
	if tr := e.train("dev-2026-12-08"); tr.State != trains.Skipped || !strings.Contains(tr.Reason, "freeze") {
		t.Errorf("train in a long window: %s %q", tr.State, tr.Reason)
	}
}

func TestLateSlotIsSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 12:00"))
	if _, err := e.svc.Confirm(t.Context(), releaser, "next-dev"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-01 17:00")) // trainbot was down from 12:00 to 17:00
	tick(t, e)
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Skipped || !strings.Contains(tr.Reason, "not running") {
		t.Errorf("late train: %s %q", tr.State, tr.Reason)
	}
}

func TestStagingSlotWithoutSignOffIsSkipped(t *testing.T) {
	t.Parallel()
	e, _ := stagingEnv(t)
	if _, err := e.svc.Confirm(t.Context(), releaser, "next-staging"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-09 14:00"))
	tick(t, e)
	if tr := e.train("staging-2026-12-09"); tr.State != trains.Skipped || !strings.Contains(tr.Reason, "not signed off") {
		t.Errorf("unsigned staging: %s %q", tr.State, tr.Reason)
	}
}

func TestCrashResumesExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 14:00"), func(c *trains.ServiceConfig) { c.PublishWorkflow = "" })
	ctx := t.Context()
	head := e.gh.AddCommits("main", 1)[0]
	// A replica tagged the train and died before dispatching.
	e.gh.AddAnnotatedTag("v0.1.0-dev.1", head, "dev", e.clock.Now())
	tagged := trains.Train{ID: "dev-2026-12-01", Track: trains.Dev, At: e.clock.Now(), State: trains.Tagged,
		Tag: "v0.1.0-dev.1", Commit: head, CutBy: releaser, ConfirmedBy: releaser}
	if _, err := e.store.CreateTrain(ctx, tagged); err != nil {
		t.Fatal(err)
	}
	tick(t, e)
	e.svc.Wait()
	tick(t, e)
	e.svc.Wait()
	if n := len(e.gh.Dispatches()); n != 1 {
		t.Errorf("%d dispatches after resuming, want exactly 1", n)
	}
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed {
		t.Errorf("resumed train: %s", tr.State)
	}

	// Another died after dispatching, before it recorded the run: the run is adopted.
	e2 := newEnv(t, at("2026-12-01 14:00"), func(c *trains.ServiceConfig) { c.PublishWorkflow = "" })
	head2 := e2.gh.AddCommits("main", 1)[0]
	e2.gh.AddAnnotatedTag("v0.1.0-dev.1", head2, "dev", e2.clock.Now())
	e2.gh.StartRun("deploy-simple.yaml", "v0.1.0-dev.1", head2, "workflow_dispatch")
	deploying := tagged
	deploying.Commit, deploying.State, deploying.DispatchedAt = head2, trains.Deploying, e2.clock.Now()
	if _, err := e2.store.CreateTrain(ctx, deploying); err != nil {
		t.Fatal(err)
	}
	tick(t, e2)
	e2.svc.Wait()
	if n := len(e2.gh.Dispatches()); n != 0 {
		t.Errorf("%d new dispatches although the run existed", n)
	}
	if tr := e2.train("dev-2026-12-01"); tr.State != trains.Deployed || tr.DeployRunID == 0 {
		t.Errorf("adopted train: %s run %d", tr.State, tr.DeployRunID)
	}
}

func TestUnscheduledDeployAnnouncedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	id := e.gh.StartRun("deploy-simple.yaml", "main", e.gh.Head("main"), "push")
	e.gh.CompleteRun(id, "success")
	tick(t, e)
	tick(t, e)
	if n := countTop(e, "Unscheduled deploy"); n != 1 {
		t.Errorf("%d unscheduled-deploy announcements, want 1", n)
	}
	st, err := e.svc.Stats(t.Context(), 30*24*time.Hour)
	if err != nil || st.Unscheduled != 1 || st.Deploys != 1 || st.TueWed != 0 {
		t.Errorf("stats = %+v, %v", st, err)
	}
}

// A window that begins between the slot and the tick that acts on it
// postpones the train; it does not leave it stuck.
func TestWindowBetweenSlotAndTick(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 12:00"))
	e.gh.AddCommits("main", 1)
	if _, err := e.svc.Confirm(t.Context(), releaser, "next-dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Pause(t.Context(), trains.PauseRequest{From: at("2026-12-01 14:00").Add(time.Second), Until: at("2026-12-01 15:00"), Reason: "re-roll", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-01 14:00").Add(10 * time.Second))
	tick(t, e)
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Postponed || !tr.At.Equal(at("2026-12-01 15:00")) {
		t.Errorf("train = %s at %s, want postponed to 15:00", tr.State, tr.At)
	}
}
