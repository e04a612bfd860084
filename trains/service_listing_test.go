package trains_test

import (
	"slices"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// TestCommandsListTagsOnce: a command reads each tag listing it needs
// once, however many plans it makes: every tag the first time, then the
// tags of the lines it needs (0.5.0 for its dev tags, 0.4.0 for the
// staging tag).
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
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v"}) {
		t.Errorf("the first calendar listed %q, want every tag once (v)", got)
	}
	_ = cal

	e.gh.ResetRequests()
	fix := e.gh.AddCommits("main", 1)[0]
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator})
	if err != nil || res.Train.Tag != "v0.4.0-hotfix.1" {
		t.Fatalf("hotfix = %+v, %v", res.Train.Tag, err)
	}
	e.svc.Wait()
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v0.5.0-", "v0.4.0-"}) {
		t.Errorf("the hotfix listed %q, want each line's tags once: v0.5.0-, v0.4.0-", got)
	}
}
