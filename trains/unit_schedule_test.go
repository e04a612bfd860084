package trains_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The reminders go out once each, 24h and 1h before the slot, and a
// confirmation edits the latest in place.
func TestUnitRemindersOnceEach(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-11-30 14:00"))
	ctx := t.Context()
	if err := e.svc.SetRotation(ctx, releaser, []string{"UANA", "UBOB"}); err != nil {
		t.Fatal(err)
	}
	e.repo.AddTag("v0.5.0-dev.1", e.repo.HeadOf("main"))
	e.repo.AddCommits("main", 2)
	e.tick()
	e.tick()
	if n := e.countTop("Dev train dev-2026-12-01"); n != 1 {
		t.Fatalf("%d reminders after two ticks at T-24h, want 1", n)
	}
	rem, _ := e.ann.Find("Dev train dev-2026-12-01")
	for _, want := range []string{"<@UANA>", "v0.5.0-dev.2", "2 commits since v0.5.0-dev.1", "/train confirm dev-2026-12-01"} {
		if !strings.Contains(rem.Text(), want) {
			t.Errorf("reminder lacks %q:\n%s", want, rem.Text())
		}
	}
	e.clock.Set(at("2026-12-01 13:00"))
	e.tick()
	e.tick()
	if n := e.countTop("Dev train dev-2026-12-01"); n != 2 {
		t.Errorf("%d reminders after T-1h, want 2", n)
	}
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
}

func TestUnitUnconfirmedTrainIsSkipped(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 14:00"))
	e.repo.AddCommits("main", 1)
	e.tick()
	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Skipped || !strings.Contains(tr.Reason, "nobody confirmed") {
		t.Errorf("train = %s %q", tr.State, tr.Reason)
	}
	e.tick()
	if e.countTop("skipped") != 1 || len(e.repo.Dispatches()) != 0 {
		t.Errorf("skip not announced once, or something dispatched")
	}
}

func TestUnitConfirmedTrainIsCutAtItsSlot(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 12:00"))
	e.repo.AddCommits("main", 1)
	if _, err := e.svc.Confirm(t.Context(), releaser, "dev-2026-12-01"); err != nil {
		t.Fatal(err)
	}
	e.tick() // 12:00: nothing due but the reminders
	if len(e.repo.Dispatches()) != 0 || len(e.repo.AllTags()) != 0 {
		t.Fatal("cut before the slot")
	}
	e.clock.Set(at("2026-12-01 14:00"))
	e.tick()
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed || tr.CutBy != releaser || tr.OffSchedule || tr.Tag != "v0.1.0-dev.1" {
		t.Errorf("train = %+v", tr)
	}
	if len(e.repo.Dispatches()) != 1 {
		t.Errorf("dispatches = %d", len(e.repo.Dispatches()))
	}
}

// A quiet window over the slot postpones the train to its end; one past
// the next slot skips it.
func TestUnitQuietWindowPostponesThenSkips(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 12:00"))
	ctx := t.Context()
	e.repo.AddCommits("main", 1)
	if _, err := e.svc.Confirm(ctx, releaser, "next-dev"); err != nil {
		t.Fatal(err)
	}
	pr, err := e.svc.Pause(ctx, trains.PauseRequest{From: at("2026-12-01 13:00"), Until: at("2026-12-01 16:00"), Reason: "re-roll", By: chainOps})
	if err != nil || len(pr.Affected) != 1 || pr.Affected[0].Decision.Action != trains.Postpone {
		t.Fatalf("pause = %+v, %v", pr, err)
	}
	e.clock.Set(at("2026-12-01 14:00"))
	e.tick()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Postponed || !tr.At.Equal(at("2026-12-01 16:00")) || tr.Window != pr.Window.ID {
		t.Fatalf("train = %s at %s window %q", tr.State, tr.At, tr.Window)
	}
	if len(e.repo.AllTags()) != 0 {
		t.Fatal("tagged in a quiet window")
	}
	e.clock.Set(at("2026-12-01 16:00"))
	e.tick()
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed || !tr.PostponedFrom.Equal(at("2026-12-01 14:00")) {
		t.Errorf("postponed train at its new time: %s from %s", tr.State, tr.PostponedFrom)
	}
	st, err := e.svc.Stats(ctx, 30*24*time.Hour)
	if err != nil || st.Postponed != 1 || st.Deployed != 1 {
		t.Errorf("stats = %+v, %v", st, err)
	}
	e.clock.Set(at("2026-12-08 10:00"))
	if _, err := e.svc.Pause(ctx, trains.PauseRequest{Until: at("2026-12-16 00:00"), Reason: "freeze", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-08 14:00"))
	e.tick()
	if tr := e.train("dev-2026-12-08"); tr.State != trains.Skipped || !strings.Contains(tr.Reason, "freeze") {
		t.Errorf("train in a long window: %s %q", tr.State, tr.Reason)
	}
}

func TestUnitLateSlotIsSkipped(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 12:00"))
	if _, err := e.svc.Confirm(t.Context(), releaser, "next-dev"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-01 17:00")) // trainbot was down from 12:00 to 17:00
	e.tick()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Skipped || !strings.Contains(tr.Reason, "not running") {
		t.Errorf("late train: %s %q", tr.State, tr.Reason)
	}
}

func TestUnitStagingSlotWithoutSignOffIsSkipped(t *testing.T) {
	t.Parallel()
	e, _ := unitStagingEnv(t)
	if _, err := e.svc.Confirm(t.Context(), releaser, "next-staging"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-09 14:00"))
	e.tick()
	if tr := e.train("staging-2026-12-09"); tr.State != trains.Skipped || !strings.Contains(tr.Reason, "not signed off") {
		t.Errorf("unsigned staging: %s %q", tr.State, tr.Reason)
	}
}

// A train a crashed replica left tagged is continued by the next tick and
// dispatched once; one left after its dispatch adopts the run it finds.
func TestUnitCrashResumesExactlyOnce(t *testing.T) {
	t.Parallel()
	noPublish := func(c *trains.ServiceConfig) { c.PublishWorkflow = "" }
	e := newUnitEnv(t, at("2026-12-01 14:00"), noPublish)
	ctx := t.Context()
	head := e.repo.AddCommits("main", 1)[0]
	e.repo.AddAnnotatedTag("v0.1.0-dev.1", head, e.clock.Now())
	tagged := trains.Train{ID: "dev-2026-12-01", Track: trains.Dev, At: e.clock.Now(), State: trains.Tagged,
		Tag: "v0.1.0-dev.1", Commit: head, CutBy: releaser, ConfirmedBy: releaser}
	if _, err := e.store.CreateTrain(ctx, tagged); err != nil {
		t.Fatal(err)
	}
	e.tick()
	e.svc.Wait()
	e.tick()
	e.svc.Wait()
	if n := len(e.repo.Dispatches()); n != 1 {
		t.Errorf("%d dispatches after resuming, want exactly 1", n)
	}
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed {
		t.Errorf("resumed train: %s", tr.State)
	}

	e2 := newUnitEnv(t, at("2026-12-01 14:00"), noPublish)
	head2 := e2.repo.AddCommits("main", 1)[0]
	e2.repo.AddAnnotatedTag("v0.1.0-dev.1", head2, e2.clock.Now())
	run := e2.repo.StartRun(trainstest.DeployWorkflow, "v0.1.0-dev.1", head2, "workflow_dispatch")
	e2.repo.CompleteRun(run, "success")
	deploying := tagged
	deploying.Commit, deploying.State, deploying.DispatchedAt = head2, trains.Deploying, e2.clock.Now()
	if _, err := e2.store.CreateTrain(ctx, deploying); err != nil {
		t.Fatal(err)
	}
	e2.tick()
	e2.svc.Wait()
	if n := len(e2.repo.Dispatches()); n != 0 {
		t.Errorf("%d new dispatches although the run existed", n)
	}
	if tr := e2.train("dev-2026-12-01"); tr.State != trains.Deployed || tr.DeployRunID != run {
		t.Errorf("adopted train: %s run %d, want run %d", tr.State, tr.DeployRunID, run)
	}
}

// A deploy run on a ref that is no train tag is announced once and
// counted; a train's deploy run is not announced.
func TestUnitUnscheduledDeployAnnouncedOnce(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00"))
	e.repo.AddCommits("main", 1)
	if tr := e.cutAndWait(); tr.State != trains.Deployed {
		t.Fatalf("train: %s", tr.State)
	}
	e.repo.CompleteRun(e.repo.StartRun(trainstest.DeployWorkflow, "main", e.repo.HeadOf("main"), "push"), "success")
	e.tick()
	e.tick()
	if n := e.countTop("Unscheduled deploy"); n != 1 {
		t.Errorf("%d unscheduled-deploy announcements, want 1", n)
	}
	st, err := e.svc.Stats(t.Context(), 30*24*time.Hour)
	if err != nil || st.Unscheduled != 1 || st.Deploys != 2 {
		t.Errorf("stats = %+v, %v", st, err)
	}
}

// listings returns the tag listings among the Repo's calls: "v" for every
// tag, "v<line>-" for a line's.
func (e *unitEnv) listings() []string {
	var out []string
	for _, c := range e.repo.Calls() {
		if c == "Tags" {
			out = append(out, "v")
		} else if l, ok := strings.CutPrefix(c, "LineTags "); ok {
			out = append(out, "v"+l+"-")
		}
	}
	return out
}

// Once the lines holding train tags are known, a plan lists the lines from
// the highest down to the first with a staging tag, and plans as a full
// listing would.
func TestUnitPlansListOnlyTheLinesTheyNeed(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-09 10:00"))
	ctx := t.Context()
	old := e.repo.AddCommits("main", 3)
	e.repo.AddAnnotatedTag("v0.3.0-dev.1", old[0], at("2026-10-01 14:00"))
	e.repo.AddAnnotatedTag("v0.3.0-staging.1", old[0], at("2026-10-10 14:00"))
	e.repo.AddAnnotatedTag("v0.4.0-dev.1", old[1], at("2026-11-01 14:00"))
	e.repo.AddAnnotatedTag("v0.4.0-staging.1", old[1], at("2026-11-10 14:00"))
	e.repo.AddAnnotatedTag("v0.4.0-dev.2", e.repo.AddCommits("main", 1)[0], at("2026-12-01 14:00"))
	e.repo.AddAnnotatedTag("v0.5.0-dev.1", e.repo.AddCommits("main", 1)[0], at("2026-12-08 14:00"))
	e.repo.AddTag("v1.2.0", old[2]) // not a train tag
	e.repo.AddCommits("main", 1)

	want := map[trains.Track]string{trains.Dev: "v0.5.0-dev.2", trains.Staging: "v0.4.0-staging.2"}
	calendar := func(what string, listed []string) {
		t.Helper()
		e.repo.ResetCalls()
		cal, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.listings(); !slices.Equal(got, listed) {
			t.Errorf("%s listed %q, want %q", what, got, listed)
		}
		for tr, tag := range want {
			if got := candidate(cal, tr); got != tag {
				t.Errorf("%s: %s candidate %q, want %q", what, tr, got, tag)
			}
		}
	}
	calendar("the first calendar", []string{"v"})
	calendar("the second calendar", []string{"v0.5.0-", "v0.4.0-"})

	e.repo.ResetCalls()
	fix := e.repo.AddCommits("main", 1)[0]
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator, DryRun: true})
	if err != nil || res.Train.Tag != "v0.4.0-hotfix.1" {
		t.Fatalf("hotfix = %q, %v; want v0.4.0-hotfix.1", res.Train.Tag, err)
	}
	if got := e.listings(); !slices.Equal(got, []string{"v0.5.0-", "v0.4.0-"}) {
		t.Errorf("hotfix listed %q", got)
	}
	if _, err := e.svc.StartLine(ctx, releaser, trains.Line{Minor: 6}); err != nil {
		t.Fatal(err)
	}
	want[trains.Dev] = "v0.6.0-dev.1"
	calendar("the calendar after /train line 0.6.0", []string{"v0.6.0-", "v0.5.0-", "v0.4.0-"})
}

// A line's listing that fails cuts nothing; the same cut goes through
// once the repository answers.
func TestUnitLineListingFailureCutsNothing(t *testing.T) {
	t.Parallel()
	e, _ := unitStagingEnv(t)
	ctx := t.Context()
	e.repo.AddTag("v0.4.0-staging.1", e.repo.HeadOf("main"))
	e.repo.AddCommits("main", 1)
	if _, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
		t.Fatal(err)
	}
	e.repo.FailNext("LineTags", trains.ErrRefused)
	if res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser}); err == nil || !strings.Contains(err.Error(), "list the tags of line 0.5.0") {
		t.Errorf("cut with the line listing refused = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if e.repo.Tag("v0.5.0-dev.6") != "" {
		t.Error("v0.5.0-dev.6 was tagged")
	}
	if tr := e.cutAndWait(); tr.Tag != "v0.5.0-dev.6" || tr.State != trains.Deployed {
		t.Errorf("cut after the fault: %s %s", tr.Tag, tr.State)
	}
}

// A window that begins between the slot and the tick that acts on it
// postpones the train; it does not leave it stuck.
func TestUnitWindowBetweenSlotAndTick(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 12:00"))
	e.repo.AddCommits("main", 1)
	if _, err := e.svc.Confirm(t.Context(), releaser, "next-dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Pause(t.Context(), trains.PauseRequest{From: at("2026-12-01 14:00").Add(time.Second), Until: at("2026-12-01 15:00"), Reason: "re-roll", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-01 14:00").Add(10 * time.Second))
	e.tick()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Postponed || !tr.At.Equal(at("2026-12-01 15:00")) {
		t.Errorf("train = %s at %s, want postponed to 15:00", tr.State, tr.At)
	}
}

// A postponed train keeps the id of its slot: next-dev names it, and it
// leaves under that id when its window ends.
func TestUnitPostponedTrainKeepsItsID(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	e.repo.AddCommits("main", 1)
	if _, err := e.svc.Pause(ctx, trains.PauseRequest{From: at("2026-12-01 13:00"), Until: at("2026-12-02 06:00"), Reason: "re-roll", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-01 14:01"))
	e.tick()
	e.clock.Set(at("2026-12-02 01:00"))
	res, err := e.svc.Confirm(ctx, releaser, "next-dev")
	if err != nil || res.Train.ID != "dev-2026-12-01" || res.Train.State != trains.Postponed {
		t.Fatalf("confirm next-dev = %+v, %v", res.Train, err)
	}
	e.clock.Set(at("2026-12-02 06:00"))
	e.tick()
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed || tr.Tag != "v0.1.0-dev.1" {
		t.Errorf("postponed train at the window's end: %s %s", tr.State, tr.Tag)
	}
	if ts, err := e.store.ListTrains(ctx, trains.TrainQuery{}); err != nil || len(ts) != 1 {
		t.Errorf("%d trains stored, want the postponed one only: %v", len(ts), err)
	}
}

// A line tagged by hand is not among the lines known; the scheduler lists
// every tag once a day, after which plans see it.
func TestUnitLineTaggedByHandFoundWithinADay(t *testing.T) {
	t.Parallel()
	e, _ := unitStagingEnv(t)
	ctx := t.Context()
	e.repo.AddTag("v0.4.0-staging.1", e.repo.HeadOf("main"))
	e.tick() // the first tick lists every tag
	e.repo.AddTag("v0.7.0-dev.3", e.repo.AddCommits("main", 1)[0])
	e.repo.AddCommits("main", 1)
	e.repo.ResetCalls()
	e.tick()
	if got := e.listings(); len(got) != 0 {
		t.Errorf("a tick within a day of the last listing listed %q", got)
	}
	cal, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true})
	if err != nil || candidate(cal, trains.Dev) != "v0.5.0-dev.6" {
		t.Errorf("dev candidate before the daily listing = %q, %v; want v0.5.0-dev.6", candidate(cal, trains.Dev), err)
	}
	e.clock.Advance(trains.TagRelist + time.Minute)
	e.repo.ResetCalls()
	e.tick()
	if got := e.listings(); !slices.Equal(got, []string{"v"}) {
		t.Errorf("a tick a day later listed %q, want every tag (v)", got)
	}
	cal, err = e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true})
	if err != nil || candidate(cal, trains.Dev) != "v0.7.0-dev.4" {
		t.Errorf("dev candidate after the daily listing = %q, %v; want v0.7.0-dev.4", candidate(cal, trains.Dev), err)
	}
}
