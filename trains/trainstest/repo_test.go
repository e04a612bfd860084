package trainstest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func newRepo() (*trainstest.Repo, *trainstest.Clock) {
	c := trainstest.NewClock(t0)
	return trainstest.NewRepo(c), c
}

func shas(cs []trains.Commit) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.SHA)
	}
	return out
}

// Compare lists what head has and base lacks, oldest first, across a merge.
func TestRepoCompareOldestFirst(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	ctx := t.Context()
	root := r.HeadOf("main")
	main := r.AddCommits("main", 2)
	r.AddBranch("side", main[0])
	side := r.AddCommits("side", 2)
	r.AddBranch("main", side[1]) // main moves to side's head: main[1] is left off

	cmp1, err := r.Compare(ctx, root, "main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{main[0], side[0], side[1]}, shas(cmp1.Commits)); diff != "" || cmp1.Total != 3 {
		t.Errorf("compare root...main (-want +got):\n%s total %d", diff, cmp1.Total)
	}
	if cmp1.Commits[0].Title() != "change 1" || cmp1.URL == "" {
		t.Errorf("first commit %+v, url %q", cmp1.Commits[0], cmp1.URL)
	}
	if c, err := r.Compare(ctx, "main", root); err != nil || len(c.Commits) != 0 || c.Total != 0 {
		t.Errorf("compare backwards = %+v, %v", c, err)
	}
	if c, err := r.Compare(ctx, main[1], side[1]); err != nil || !slices.Equal(shas(c.Commits), side) {
		t.Errorf("compare across branches = %v, %v; want %v", shas(c.Commits), err, side)
	}
	if _, err := r.Compare(ctx, "nope", "main"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("compare with a missing base: %v", err)
	}
}

// Compare keeps the newest MaxCompare commits and counts them all.
func TestRepoCompareKeepsTheNewest(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	base := r.HeadOf("main")
	added := r.AddCommits("main", trainstest.MaxCompare+3)
	c, err := r.Compare(t.Context(), base, "main")
	if err != nil || c.Total != trainstest.MaxCompare+3 || len(c.Commits) != trainstest.MaxCompare {
		t.Fatalf("compare = %d of %d, %v", len(c.Commits), c.Total, err)
	}
	if c.Commits[0].SHA != added[3] || c.Commits[len(c.Commits)-1].SHA != added[len(added)-1] {
		t.Errorf("compare kept %s…%s, want the newest, oldest first", c.Commits[0].SHA[:7], c.Commits[len(c.Commits)-1].SHA[:7])
	}
}

func TestRepoCreateTag(t *testing.T) {
	t.Parallel()
	r, clock := newRepo()
	ctx := t.Context()
	a := r.AddCommits("main", 2)
	clock.Advance(time.Hour)
	if err := r.CreateTag(ctx, "v0.1.0-dev.1", a[0], "dev"); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateTag(ctx, "v0.1.0-dev.1", a[0], "dev again"); err != nil {
		t.Errorf("the same tag on the same commit: %v", err)
	}
	err := r.CreateTag(ctx, "v0.1.0-dev.1", a[1], "dev")
	var tc *trains.TagConflictError
	if !errors.As(err, &tc) || tc.Tag != "v0.1.0-dev.1" || tc.Existing != a[0] || tc.Want != a[1] {
		t.Errorf("the tag on another commit: %v", err)
	}
	if err := r.CreateTag(ctx, "v0.1.0-dev.2", "0000000000000000000000000000000000000000", ""); !errors.Is(err, trains.ErrRefused) {
		t.Errorf("a tag on no commit: %v", err)
	}
	if d, err := r.TagDate(ctx, "v0.1.0-dev.1"); err != nil || !d.Equal(t0.Add(time.Hour)) {
		t.Errorf("tag date = %s, %v; want the clock's time of the tag", d, err)
	}
	// One publish run: the repeated tag starts none.
	runs := r.Runs(trainstest.PublishWorkflow)
	if len(runs) != 1 || !runs[0].Succeeded() || runs[0].Ref != "v0.1.0-dev.1" || runs[0].SHA != a[0] {
		t.Fatalf("publish runs = %+v", runs)
	}
	if run, err := r.WaitPublish(ctx, "v0.1.0-dev.1"); err != nil || run.ID != runs[0].ID {
		t.Errorf("wait publish = %+v, %v", run, err)
	}
}

func TestRepoTagDates(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	ctx := t.Context()
	c := r.AddCommit("main", "fix", t0.Add(-48*time.Hour))
	r.AddTag("v0.1.0-dev.1", c)
	r.AddAnnotatedTag("v0.1.0-dev.2", c, t0.Add(-time.Hour))
	if d, err := r.TagDate(ctx, "v0.1.0-dev.1"); err != nil || !d.Equal(t0.Add(-48*time.Hour)) {
		t.Errorf("lightweight tag's date = %s, %v; want its commit's", d, err)
	}
	if d, err := r.TagDate(ctx, "v0.1.0-dev.2"); err != nil || !d.Equal(t0.Add(-time.Hour)) {
		t.Errorf("annotated tag's date = %s, %v", d, err)
	}
	if _, err := r.TagDate(ctx, "v0.1.0-dev.3"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("date of a missing tag: %v", err)
	}
	tags, err := r.Tags(ctx)
	want := []trains.RepoTag{{Name: "v0.1.0-dev.1", Commit: c}, {Name: "v0.1.0-dev.2", Commit: c, Date: t0.Add(-time.Hour)}}
	if diff := cmp.Diff(want, tags); err != nil || diff != "" {
		t.Errorf("tags (-want +got):\n%s %v", diff, err)
	}
}

// LineTags lists the tags of one line: v0.1.0- is not v0.1.10-.
func TestRepoLineTags(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	head := r.HeadOf("main")
	for _, n := range []string{"v0.1.0-dev.1", "v0.1.0-staging.1", "v0.1.10-dev.1", "v0.10.0-dev.1", "v1.1.0-dev.1", "x0.1.0-dev.1", "v0.1.0"} {
		r.AddTag(n, head)
	}
	tags, err := r.LineTags(t.Context(), trains.Line{Minor: 1})
	var names []string
	for _, tg := range tags {
		names = append(names, tg.Name)
	}
	if diff := cmp.Diff([]string{"v0.1.0-dev.1", "v0.1.0-staging.1"}, names); err != nil || diff != "" {
		t.Errorf("line 0.1.0 tags (-want +got):\n%s %v", diff, err)
	}
	if got := r.Calls(); !slices.Equal(got, []string{"LineTags 0.1.0"}) {
		t.Errorf("calls = %q", got)
	}
}

func TestRepoContainsAndBranches(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	ctx := t.Context()
	root := r.HeadOf("main")
	a := r.AddCommits("main", 1)[0]
	fix := r.AddCommit("fix", "fix", time.Time{}) // a new branch with its own root
	fork := r.AddForkCommit(a, "from a fork")
	for _, tt := range []struct {
		anc, desc string
		want      bool
	}{
		{root, a, true}, {a, a, true}, {a, root, false}, {fix, a, false}, {a, fork, true}, {fork, "main", false},
	} {
		if got, err := r.Contains(ctx, tt.anc, tt.desc); err != nil || got != tt.want {
			t.Errorf("Contains(%s, %s) = %v, %v; want %v", tt.anc[:7], tt.desc, got, err, tt.want)
		}
	}
	if _, err := r.Contains(ctx, "nope", a); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Contains of a missing commit: %v", err)
	}
	r.AddBranch("a-side", a)
	if b, err := r.BranchContaining(ctx, a); err != nil || b != "main" {
		t.Errorf("branch containing a = %q, %v; want the release branch first", b, err)
	}
	if b, err := r.BranchContaining(ctx, fix[:9]); err != nil || b != "fix" {
		t.Errorf("branch containing fix = %q, %v", b, err)
	}
	if _, err := r.BranchContaining(ctx, fork); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("branch containing a fork's commit: %v", err)
	}
	if c, err := r.Commit(ctx, fork[:8]); err != nil || c.SHA != fork || c.Title() != "from a fork" {
		t.Errorf("commit by prefix = %+v, %v", c, err)
	}
	if c, err := r.Branch(ctx, "fix"); err != nil || c.SHA != fix {
		t.Errorf("branch fix = %+v, %v", c, err)
	}
	if _, err := r.Branch(ctx, "nope"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("missing branch: %v", err)
	}
	if h, err := r.Head(ctx); err != nil || h.SHA != a {
		t.Errorf("head = %+v, %v", h, err)
	}
}

func TestRepoRuns(t *testing.T) {
	t.Parallel()
	r, clock := newRepo()
	ctx := t.Context()
	head := r.HeadOf("main")
	r.AddTag("v0.1.0-dev.1", head)
	if _, err := r.WaitPublish(ctx, "v0.1.0-dev.1"); !errors.Is(err, trains.ErrRunNotFound) {
		t.Errorf("publish of a tag made by hand: %v", err)
	}
	if err := r.Dispatch(ctx, "v9.9.9-dev.1", nil); !errors.Is(err, trains.ErrRefused) {
		t.Errorf("dispatch on a missing tag: %v", err)
	}
	since := clock.Now()
	if err := r.Dispatch(ctx, "v0.1.0-dev.1", map[string]string{"environment": "dev"}); err != nil {
		t.Fatal(err)
	}
	run, err := r.FindDeployRun(ctx, "v0.1.0-dev.1", since)
	if err != nil || !run.Succeeded() || run.SHA != head || run.Event != "workflow_dispatch" {
		t.Fatalf("deploy run = %+v, %v", run, err)
	}
	if _, err := r.FindDeployRun(ctx, "v0.1.0-dev.1", since.Add(time.Second)); !errors.Is(err, trains.ErrRunNotFound) {
		t.Errorf("a run older than since was found: %v", err)
	}
	r.SetDeploy("failure")
	clock.Advance(time.Minute)
	if err := r.Dispatch(ctx, "v0.1.0-dev.1", nil); err != nil {
		t.Fatal(err)
	}
	failed, err := r.FindDeployRun(ctx, "v0.1.0-dev.1", since)
	if err != nil || failed.ID == run.ID || failed.Conclusion != "failure" {
		t.Errorf("newest deploy run = %+v, %v", failed, err)
	}
	r.SetDeploy(trainstest.RunNever)
	clock.Advance(time.Minute)
	if err := r.Dispatch(ctx, "v0.1.0-dev.1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.FindDeployRun(ctx, "v0.1.0-dev.1", clock.Now()); !errors.Is(err, trains.ErrRunNotFound) {
		t.Errorf("a dispatch that started no run: %v", err)
	}
	if ds := r.Dispatches(); len(ds) != 3 || ds[0].Inputs["environment"] != "dev" {
		t.Errorf("dispatches = %+v", ds)
	}

	push := r.StartRun(trainstest.DeployWorkflow, "main", head, "push")
	if _, err := r.WaitRun(ctx, push, false); err == nil || errors.Is(err, trains.ErrNotFound) {
		t.Errorf("waiting on a run in progress: %v", err)
	}
	r.CompleteRun(push, "success")
	if got, err := r.WaitRun(ctx, push, false); err != nil || !got.Succeeded() {
		t.Errorf("wait run = %+v, %v", got, err)
	}
	if _, err := r.WaitRun(ctx, 1, false); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("wait on no run: %v", err)
	}
	runs, err := r.DeployRuns(ctx, since.Add(time.Second))
	if err != nil || len(runs) != 2 || runs[0].ID != failed.ID || runs[1].ID != push {
		t.Errorf("deploy runs since = %+v, %v", runs, err)
	}

	r.SetPublish("failure")
	if err := r.CreateTag(ctx, "v0.1.0-dev.2", head, ""); err != nil {
		t.Fatal(err)
	}
	if run, err := r.WaitPublish(ctx, "v0.1.0-dev.2"); err != nil || run.Conclusion != "failure" {
		t.Errorf("failed publish = %+v, %v", run, err)
	}
	r.SetPublish(trainstest.RunNever)
	if err := r.CreateTag(ctx, "v0.1.0-dev.3", head, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WaitPublish(ctx, "v0.1.0-dev.3"); !errors.Is(err, trains.ErrRunNotFound) {
		t.Errorf("publish that never runs: %v", err)
	}
}

func TestRepoFailNextAndContext(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	boom := errors.New("boom")
	r.FailNext("CreateTag", boom)
	head := r.HeadOf("main")
	if err := r.CreateTag(t.Context(), "v0.1.0-dev.1", head, ""); !errors.Is(err, boom) {
		t.Errorf("first CreateTag: %v", err)
	}
	if r.Tag("v0.1.0-dev.1") != "" {
		t.Error("a failed CreateTag made the tag")
	}
	if err := r.CreateTag(t.Context(), "v0.1.0-dev.1", head, ""); err != nil {
		t.Errorf("second CreateTag: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Head(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Head on a cancelled context: %v", err)
	}
}

// Concurrent use, for the race detector.
func TestRepoConcurrent(t *testing.T) {
	t.Parallel()
	r, _ := newRepo()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sha := r.AddCommits("main", 1)[0]
			name := "v0.1.0-dev." + string(rune('1'+i))
			if err := r.CreateTag(t.Context(), name, sha, ""); err != nil {
				t.Error(err)
			}
			if _, err := r.Compare(t.Context(), "v0.1.0-dev.1", "main"); err != nil && !errors.Is(err, trains.ErrNotFound) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(r.AllTags()); n != 8 {
		t.Errorf("%d tags, want 8", n)
	}
}
