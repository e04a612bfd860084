package githubfake_test

import (
	"fmt"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

func TestListBranchesPaginated(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	head := fake.Head("main")
	for i := range 140 {
		fake.AddBranch(fmt.Sprintf("b%03d", i), head)
	}
	opts := &github.BranchListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var names []string
	pages := 0
	for {
		bs, resp, err := c.Repositories.ListBranches(t.Context(), fake.Owner(), fake.Repo(), opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, b := range bs {
			if b.GetCommit().GetSHA() != head || b.Protected == nil {
				t.Errorf("branch %+v", b)
			}
			names = append(names, b.GetName())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 2 || len(names) != 141 || names[0] != "b000" || names[140] != "main" {
		t.Errorf("%d pages, %d branches: %v…", pages, len(names), names[:3])
	}
	if got := fake.Branches(); len(got) != 141 {
		t.Errorf("Branches() = %d names", len(got))
	}
}

func TestForkCommit(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	fork := fake.AddForkCommit(fake.Head("main"), "fix: from a fork")

	got, _, err := c.Repositories.GetCommit(ctx, o, r, fork, nil)
	if err != nil || got.GetSHA() != fork || got.GetCommit().GetMessage() != "fix: from a fork" {
		t.Fatalf("GetCommit(fork) = %v, %v", got, err)
	}
	cmp, _, err := c.Repositories.CompareCommits(ctx, o, r, "main", fork, nil)
	if err != nil || cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 1 {
		t.Errorf("compare main...fork = %s %d, %v", cmp.GetStatus(), cmp.GetAheadBy(), err)
	}
	bs, _, err := c.Repositories.ListBranches(ctx, o, r, nil)
	if err != nil || len(bs) != 1 || bs[0].GetCommit().GetSHA() == fork {
		t.Errorf("branches = %v, %v", bs, err)
	}
	fake.AddBranch("fix", fork)
	if h := fake.Head("fix"); h != fork {
		t.Errorf("a fork commit pushed to a branch: head %s", h)
	}
}

func TestOutsideRepoAnswered404AndRecorded(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t)
	c := fake.Client()
	_, _, err := c.Repositories.GetCommit(t.Context(), "victim", "private", "main", nil)
	if err == nil {
		t.Fatal("a commit of another repository was answered")
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/repos/victim/private/commits/main" || reqs[0].Route != "" || reqs[0].Status != 404 {
		t.Errorf("requests = %+v", reqs)
	}
}
