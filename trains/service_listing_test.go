package trains_test

import (
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// TestCommandsListTagsOnce: a command reads the tag listing once, however
// many plans it makes.
func TestCommandsListTagsOnce(t *testing.T) {
	t.Parallel()
	e, _ := stagingEnv(t)
	ctx := t.Context()
	e.gh.AddTag("v0.4.0-staging.1", e.gh.Head("main"))
	e.gh.AddCommits("main", 2)

	e.gh.ResetRequests()
	cal, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.gh.Count("GET", "git/matching-refs/"); n != 1 {
		t.Errorf("the calendar listed the tags %d times, want 1", n)
	}
	_ = cal

	e.gh.ResetRequests()
	fix := e.gh.AddCommits("main", 1)[0]
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator})
	if err != nil || res.Train.Tag != "v0.4.0-hotfix.1" {
		t.Fatalf("hotfix = %+v, %v", res.Train.Tag, err)
	}
	e.svc.Wait()
	if n := e.gh.Count("GET", "git/matching-refs/"); n != 1 {
		t.Errorf("the hotfix listed the tags %d times, want 1", n)
	}
}
