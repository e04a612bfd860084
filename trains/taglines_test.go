package trains_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

// listedPrefixes returns the tag prefixes the requests since the last
// reset listed, in order.
func (e *env) listedPrefixes() []string {
	var out []string
	for _, r := range e.gh.Requests() {
		if p, ok := strings.CutPrefix(r.Route, "git/matching-refs/tags/"); ok && r.Method == "GET" {
			out = append(out, p)
		}
	}
	return out
}

// TestPlansListOnlyTheLinesTheyNeed: once the lines holding train tags are
// known, a plan lists the tags of the lines from the highest down to the
// first holding a staging tag, and none below; what it plans is what a
// full listing would give: a staging train promotes a soaked dev tag of
// the line below a new one, and a hotfix goes on the staging line.
func TestPlansListOnlyTheLinesTheyNeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-09 10:00"))
	ctx := t.Context()
	old := e.gh.AddCommits("main", 3)
	e.gh.AddAnnotatedTag("v0.3.0-dev.1", old[0], "dev", at("2026-10-01 14:00"))
	e.gh.AddAnnotatedTag("v0.3.0-staging.1", old[0], "staging", at("2026-10-10 14:00"))
	e.gh.AddAnnotatedTag("v0.4.0-dev.1", old[1], "dev", at("2026-11-01 14:00"))
	e.gh.AddAnnotatedTag("v0.4.0-staging.1", old[1], "staging", at("2026-11-10 14:00"))
	soaked := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.4.0-dev.2", soaked, "dev", at("2026-12-01 14:00"))
	fresh := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.1", fresh, "dev", at("2026-12-08 14:00"))
	e.gh.AddTag("v1.2.0", old[2]) // not a train tag
	e.gh.AddCommits("main", 1)

	// The first command knows no lines yet: it lists every tag.
	e.gh.ResetRequests()
	cal, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v"}) {
		t.Errorf("first calendar listed %q, want every tag (v)", got)
	}
	want := map[trains.Track]string{trains.Dev: "v0.5.0-dev.2", trains.Staging: "v0.4.0-staging.2"}
	checkCandidates := func(what string, cal trains.Calendar) {
		t.Helper()
		for tr, tag := range want {
			if got := candidate(cal, tr); got != tag {
				t.Errorf("%s: %s candidate %q, want %q", what, tr, got, tag)
			}
		}
	}
	checkCandidates("first calendar", cal)

	// Then only 0.5.0 (no staging tag) and 0.4.0 (the staging line).
	e.gh.ResetRequests()
	if cal, err = e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v0.5.0-", "v0.4.0-"}) {
		t.Errorf("second calendar listed %q, want v0.5.0- then v0.4.0-", got)
	}
	checkCandidates("second calendar", cal)

	e.gh.ResetRequests()
	fix := e.gh.AddCommits("main", 1)[0]
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator, DryRun: true})
	if err != nil || res.Train.Tag != "v0.4.0-hotfix.1" {
		t.Fatalf("hotfix = %q, %v; want v0.4.0-hotfix.1", res.Train.Tag, err)
	}
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v0.5.0-", "v0.4.0-"}) {
		t.Errorf("hotfix listed %q, want v0.5.0- then v0.4.0-", got)
	}

	// A line started with /train line is listed too, before it has a tag.
	if _, err := e.svc.StartLine(ctx, releaser, trains.Line{Minor: 6}); err != nil {
		t.Fatal(err)
	}
	e.gh.ResetRequests()
	if cal, err = e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
		t.Fatal(err)
	}
	want[trains.Dev] = "v0.6.0-dev.1"
	checkCandidates("after /train line 0.6.0", cal)
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v0.6.0-", "v0.5.0-", "v0.4.0-"}) {
		t.Errorf("calendar after /train line listed %q", got)
	}
}

// TestLineTaggedByHandFoundWithinADay: a line someone tagged by hand is not
// among the lines known; the scheduler lists every tag once a day, after
// which plans see it.
func TestLineTaggedByHandFoundWithinADay(t *testing.T) {
	t.Parallel()
	e, _ := stagingEnv(t)
	ctx := t.Context()
	e.gh.AddTag("v0.4.0-staging.1", e.gh.Head("main"))
	if err := e.svc.Tick(ctx); err != nil { // the first tick lists every tag
		t.Fatal(err)
	}
	e.gh.AddTag("v0.7.0-dev.3", e.gh.AddCommits("main", 1)[0]) // by hand
	e.gh.AddCommits("main", 1)
	e.gh.ResetRequests()
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.listedPrefixes(); len(got) != 0 {
		t.Errorf("a tick within a day of the last listing listed %q", got)
	}
	cal, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := candidate(cal, trains.Dev); got != "v0.5.0-dev.6" {
		t.Errorf("dev candidate before the daily listing = %q, want v0.5.0-dev.6 (the hand-made line is not known yet)", got)
	}
	e.clock.Advance(trains.TagRelist + time.Minute)
	e.gh.ResetRequests()
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v"}) {
		t.Errorf("a tick a day later listed %q, want every tag (v)", got)
	}
	if cal, err = e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
		t.Fatal(err)
	}
	if got := candidate(cal, trains.Dev); got != "v0.7.0-dev.4" {
		t.Errorf("dev candidate after the daily listing = %q, want v0.7.0-dev.4", got)
	}
}

// candidate is the tag the calendar's first train of track would make.
func candidate(cal trains.Calendar, track trains.Track) string {
	for _, e := range cal.Trains {
		if e.Slot.Track == track {
			return e.Candidate
		}
	}
	return ""
}

// TestLineListingFailureCutsNothing: when GitHub refuses a line's tag
// listing, a cut says which listing failed and what permission it needs,
// and nothing is tagged; the same cut goes through once GitHub answers.
func TestLineListingFailureCutsNothing(t *testing.T) {
	t.Parallel()
	e, _ := stagingEnv(t)
	ctx := t.Context()
	e.gh.AddTag("v0.4.0-staging.1", e.gh.Head("main"))
	e.gh.AddCommits("main", 1)
	if _, err := e.svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
		t.Fatal(err)
	}
	e.gh.Fail("GET", "git/matching-refs/tags/v0.5.0-", githubfake.Forbidden())
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err == nil || !strings.Contains(err.Error(), "list the tags of line 0.5.0") || !strings.Contains(err.Error(), "contents:read") {
		t.Errorf("cut with the line listing refused = %v, %v; want an error naming the listing and the permission needed", res.Outcome, err)
	}
	if n := e.gh.Count("POST", "git/"); n != 0 {
		t.Errorf("%d tag writes after a failed listing", n)
	}
	if _, ok := e.gh.Tag("v0.5.0-dev.6"); ok {
		t.Error("v0.5.0-dev.6 was tagged")
	}
	// The same cut goes through once GitHub answers again.
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut after the fault = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if _, ok := e.gh.Tag("v0.5.0-dev.6"); !ok {
		t.Error("v0.5.0-dev.6 was not tagged")
	}
}

// TestFirstTrainTagsMadeByHandAreSeen: trainbot listed every tag before
// the repository had a train tag; a staging tag then made by hand is on a
// line it does not know, yet a hotfix sees it: while the lines known hold
// no staging or no dev tag, plans list every tag.
func TestFirstTrainTagsMadeByHandAreSeen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-09 10:00"))
	ctx := t.Context()
	if err := e.svc.Tick(ctx); err != nil { // lists every tag: none
		t.Fatal(err)
	}
	e.gh.AddTag("v0.5.0-staging.1", e.gh.AddCommits("main", 1)[0])
	fix := e.gh.AddCommits("main", 1)[0]
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator, DryRun: true})
	if err != nil || res.Train.Tag != "v0.5.0-hotfix.1" {
		t.Fatalf("hotfix after a staging tag made by hand = %q, %v; want v0.5.0-hotfix.1", res.Train.Tag, err)
	}
	// The lines are known now: the next command lists that line alone...
	// but it holds no dev tag, so every tag is still listed.
	e.gh.ResetRequests()
	if _, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.listedPrefixes(); !slices.Equal(got, []string{"v0.5.0-", "v"}) {
		t.Errorf("second hotfix listed %q, want v0.5.0- then every tag (no dev tag yet)", got)
	}
}
