package githubfake_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// TestScale builds a repository of 50,000 commits and 10,000 tags and
// compares across it, checking the answers; how long that takes is
// measured by BenchmarkScale, not here.
func TestScale(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	shas := fake.AddCommits("main", 50_000)
	for i := range 10_000 {
		fake.AddTag(fmt.Sprintf("build-%05d", i), shas[i*5])
	}
	fake.AddBranch("side", shas[20_000])
	side := fake.AddCommit("side", "side work", time.Time{})

	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	cmp, _, err := c.Repositories.CompareCommits(ctx, o, r, shas[0], shas[len(shas)-1], nil)
	if err != nil || cmp.GetTotalCommits() != 49_999 || len(cmp.Commits) != 250 {
		t.Fatalf("compare root...head: %d commits of %d, %v", len(cmp.Commits), cmp.GetTotalCommits(), err)
	}
	if got := cmp.Commits[len(cmp.Commits)-1].GetSHA(); got != shas[len(shas)-1] {
		t.Errorf("unpaged compare ends at %.7s, want the newest commit %.7s", got, shas[len(shas)-1])
	}
	cmp, _, err = c.Repositories.CompareCommits(ctx, o, r, side, "main", nil)
	if err != nil || cmp.GetStatus() != "diverged" || cmp.GetAheadBy() != 29_999 || cmp.GetBehindBy() != 1 ||
		cmp.GetMergeBaseCommit().GetSHA() != shas[20_000] {
		t.Errorf("compare side...main: %s ahead %d behind %d base %.7s, %v", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), cmp.GetMergeBaseCommit().GetSHA(), err)
	}
}

// BenchmarkScale measures the test server at the size of a big
// repository: building 50,000 commits and 10,000 tags once, and a compare
// of the newest 20 commits (what a train asks), which costs the commits
// compared, not the history: compare it with the small world's.
//
//	go test -run XXX -bench Scale ./internal/githubfake
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{100, 50_000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			began := time.Now()
			fake := githubfake.New(b, githubfake.WithClock(trainstest.NewClock(t0)))
			shas := fake.AddCommits("main", n)
			for i := range n / 5 {
				fake.AddTag(fmt.Sprintf("build-%05d", i), shas[i*5])
			}
			b.ReportMetric(float64(time.Since(began).Milliseconds()), "build-ms")
			c, ctx := fake.Client(), b.Context()
			b.ResetTimer()
			for range b.N {
				if _, _, err := c.Repositories.CompareCommits(ctx, fake.Owner(), fake.Repo(), shas[n-21], "main", &github.ListOptions{PerPage: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestComparePages checks the compare contract: without paging the list
// is the newest 250, oldest first; with paging, pages run oldest first.
func TestComparePages(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	base := fake.Head("main")
	shas := fake.AddCommits("main", 600)

	cmp, resp, err := c.Repositories.CompareCommits(ctx, o, r, base, "main", nil)
	if err != nil || cmp.GetTotalCommits() != 600 || len(cmp.Commits) != 250 || resp.NextPage != 0 {
		t.Fatalf("unpaged: %d of %d, next %d, %v", len(cmp.Commits), cmp.GetTotalCommits(), resp.NextPage, err)
	}
	if cmp.Commits[0].GetSHA() != shas[350] || cmp.Commits[249].GetSHA() != shas[599] {
		t.Errorf("unpaged compare lists %.7s…%.7s, want the newest 250 (%.7s…%.7s)", cmp.Commits[0].GetSHA(), cmp.Commits[249].GetSHA(), shas[350], shas[599])
	}
	cmp, resp, err = c.Repositories.CompareCommits(ctx, o, r, base, "main", &github.ListOptions{PerPage: 250})
	if err != nil || len(cmp.Commits) != 250 || cmp.Commits[0].GetSHA() != shas[0] || resp.NextPage != 2 || resp.LastPage != 3 {
		t.Fatalf("page 1: %d commits, next %d last %d, %v", len(cmp.Commits), resp.NextPage, resp.LastPage, err)
	}
	cmp, resp, err = c.Repositories.CompareCommits(ctx, o, r, base, "main", &github.ListOptions{PerPage: 250, Page: 3})
	if err != nil || len(cmp.Commits) != 100 || cmp.Commits[99].GetSHA() != shas[599] || resp.NextPage != 0 {
		t.Fatalf("page 3: %d commits, next %d, %v", len(cmp.Commits), resp.NextPage, err)
	}
}
