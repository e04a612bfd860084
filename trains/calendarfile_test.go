package trains_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

func withCalendar(c *trains.ServiceConfig) { c.CalendarPath = trains.CalendarPath }

// threadText is the thread of the only train announced, as one string.
func threadText(t *testing.T, e *env) string {
	t.Helper()
	top := e.ann.Top()
	if len(top) != 1 {
		t.Fatalf("top messages: %+v", top)
	}
	var lines []string
	for _, p := range e.ann.Thread(top[0].Ref) {
		lines = append(lines, p.Text())
	}
	return strings.Join(lines, "\n")
}

func TestDevCutCommitsTheCalendarOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"), withCalendar)
	ctx := t.Context()
	e.gh.AddCommits("main", 2)

	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if tr := e.train(res.Train.ID); tr.State != trains.Deployed {
		t.Fatalf("train %s: %s %s", tr.ID, tr.State, tr.Error)
	}
	file, ok := e.gh.File("main", trains.CalendarPath)
	if !ok {
		t.Fatalf("no %s on main", trains.CalendarPath)
	}
	if rows := strings.Count(file, "\n| dev-") + strings.Count(file, "\n| staging-"); rows != 4 || !strings.HasPrefix(file, "# Release calendar") {
		t.Errorf("calendar file has %d trains:\n%s", rows, file)
	}
	msg := e.gh.CommitMessage("main")
	if !strings.Contains(msg, string(res.Train.ID)) || !strings.Contains(msg, "[skip ci]") {
		t.Errorf("commit message %q names no train or lacks [skip ci]", msg)
	}
	if n := e.gh.Count("PUT", "contents/"); n != 1 {
		t.Errorf("%d content writes, want 1", n)
	}
	if all := threadText(t, e); !strings.Contains(all, "Calendar updated") {
		t.Errorf("thread does not say the calendar was committed:\n%s", all)
	}

	// On demand, with nothing new: no second commit.
	pub, err := e.svc.PublishCalendar(ctx, releaser)
	if err != nil || pub.Outcome != trains.CalendarUnchanged {
		t.Fatalf("publish again = %+v, %v", pub, err)
	}
	if n := e.gh.Count("PUT", "contents/"); n != 1 {
		t.Errorf("%d content writes after an unchanged publish, want 1", n)
	}

	// The calendar commit alone is not worth a train.
	e.clock.Advance(7 * 24 * time.Hour)
	again, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || again.Outcome != trains.CutNothing || !strings.Contains(again.Plan.Nothing, "calendar") {
		t.Errorf("cut with only the calendar commit = %v %q, %v", again.Outcome, again.Plan.Nothing, err)
	}
}

func TestDevCutOnAProtectedBranchOpensOnePullRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"), withCalendar)
	ctx := t.Context()
	e.gh.AddCommits("main", 2)
	e.gh.Protect("main")

	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if tr := e.train(res.Train.ID); tr.State != trains.Deployed {
		t.Fatalf("train %s: %s %s", tr.ID, tr.State, tr.Error)
	}
	pulls := e.gh.Pulls()
	if len(pulls) != 1 || pulls[0].State != "open" || pulls[0].Base != "main" {
		t.Fatalf("pull requests = %+v", pulls)
	}
	if all := threadText(t, e); !strings.Contains(all, pulls[0].URL) || !strings.Contains(all, "protected") {
		t.Errorf("thread lacks the pull request's link %s:\n%s", pulls[0].URL, all)
	}
	if _, ok := e.gh.File("main", trains.CalendarPath); ok {
		t.Error("the calendar landed on the protected branch")
	}
	if _, ok := e.gh.File(pulls[0].Head, trains.CalendarPath); !ok {
		t.Errorf("no calendar on %s", pulls[0].Head)
	}

	// The calendar changes (a new rotation): the same pull request is updated.
	if err := e.svc.SetRotation(ctx, releaser, []string{"UANA", "UBOB"}); err != nil {
		t.Fatal(err)
	}
	pub, err := e.svc.PublishCalendar(ctx, releaser)
	if err != nil || pub.Outcome != trains.CalendarProposed || !pub.PRUpdated || pub.URL != pulls[0].URL {
		t.Fatalf("publish = %+v, %v", pub, err)
	}
	if got := e.gh.Pulls(); len(got) != 1 {
		t.Errorf("pull requests = %+v, want the one updated", got)
	}
	if file, _ := e.gh.File(pulls[0].Head, trains.CalendarPath); !strings.Contains(file, "UANA") {
		t.Errorf("the pull request's file has not the new rotation:\n%s", file)
	}
}

func TestCalendarFailureDoesNotFailTheTrain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"), withCalendar)
	ctx := t.Context()
	e.gh.AddCommits("main", 2)
	e.gh.Fail("", "contents/*", githubfake.Forbidden(), githubfake.Forbidden(), githubfake.Forbidden())

	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if tr := e.train(res.Train.ID); tr.State != trains.Deployed {
		t.Fatalf("train %s: %s %s", tr.ID, tr.State, tr.Error)
	}
	all := threadText(t, e)
	if !strings.Contains(all, "calendar") || !strings.Contains(all, "--publish") || !strings.Contains(all, "deployed to dev") {
		t.Errorf("thread does not say the calendar failed and the train went on:\n%s", all)
	}
}

func TestPublishCalendarIsForReleasers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"), withCalendar)
	_, err := e.svc.PublishCalendar(t.Context(), "USTR")
	var ue *trains.UserError
	if !errors.As(err, &ue) || !ue.Forbidden || !strings.Contains(ue.Error(), "releasers") {
		t.Fatalf("a stranger's publish: %v", err)
	}
	if n := e.gh.Count("", "contents/"); n != 0 {
		t.Errorf("%d contents requests after a refusal", n)
	}

	off := newEnv(t, at("2026-12-01 10:00"))
	_, err = off.svc.PublishCalendar(t.Context(), releaser)
	if !errors.As(err, &ue) || !strings.Contains(ue.Error(), "TRAINBOT_CALENDAR_PATH") {
		t.Fatalf("publish with the setting off: %v", err)
	}
}

func TestSameCalendarIgnoresWhenItWasGenerated(t *testing.T) {
	t.Parallel()
	a := "# Release calendar\n\nGenerated by trainbot at 2026-12-01 10:00 UTC. All times are UTC.\n\n| x |\n"
	b := "# Release calendar\n\nGenerated by trainbot at 2026-12-08 10:00 UTC. All times are UTC.\n\n| x |\n"
	c := "# Release calendar\n\nGenerated by trainbot at 2026-12-08 10:00 UTC. All times are UTC.\n\n| y |\n"
	if !trains.SameCalendar(a, b) || trains.SameCalendar(a, c) {
		t.Error("SameCalendar compares the generation time, or not the rest")
	}
}

// The calendar file, read outside Slack, names people; an id Names cannot
// name stays an id.
func TestCalendarFileShowsNames(t *testing.T) {
	t.Parallel()
	st := trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{Config: withCalendar,
		Names: trainstest.Names{"U0RITA": "Rita Releaser"}})
	ctx := t.Context()
	if err := st.Svc.SetRotation(ctx, releaser, []string{"U0RITA", "U0GONE"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Svc.PublishCalendar(ctx, releaser); err != nil {
		t.Fatal(err)
	}
	file, _ := st.GH.File("main", trains.CalendarPath)
	if !strings.Contains(file, "| Rita Releaser |") || !strings.Contains(file, "| U0GONE |") || strings.Contains(file, "U0RITA") {
		t.Errorf("calendar file, want Rita Releaser by name and U0GONE by id:\n%s", file)
	}
}
