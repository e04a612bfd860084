package deploy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

func TestTagsEveryPagePeeled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetRefsPageSize(100)
	shas := e.fake.AddCommits("main", 10)
	want := map[string]trains.RepoTag{}
	for i := range 260 {
		name := fmt.Sprintf("v0.%d.0-dev.%d", i/10, i%10+1)
		sha := shas[i%len(shas)]
		if i%3 == 0 {
			date := start.Add(-time.Duration(i) * time.Hour)
			e.fake.AddAnnotatedTag(name, sha, "train "+name, date)
			want[name] = trains.RepoTag{Name: name, Commit: sha, Date: date}
		} else {
			e.fake.AddTag(name, sha)
			want[name] = trains.RepoTag{Name: name, Commit: sha}
		}
	}
	e.fake.AddTag("sdk-v1.0.0", shas[0]) // not under tags/v

	got, err := e.gh.Tags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 260 {
		t.Fatalf("got %d tags, want 260", len(got))
	}
	for _, g := range got {
		if diff := cmp.Diff(want[g.Name], g); diff != "" {
			t.Errorf("tag %s (-want +got):\n%s", g.Name, diff)
		}
	}
	if n := e.fake.Count("GET", "git/matching-refs/tags/v"); n != 3 {
		t.Errorf("%d pages of refs read, want 3", n)
	}

	// Again: every page answers 304 and tag objects are remembered.
	before := e.fake.Counted()
	if _, err := e.gh.Tags(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Counted() - before; n != 0 {
		t.Errorf("listing the tags again cost %d counted requests, want 0 (all 304)", n)
	}
}

func TestTagDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	commitDate := start.Add(-48 * time.Hour)
	sha := e.fake.AddCommit("main", "feat: x", commitDate)
	tagDate := start.Add(-24 * time.Hour)
	e.fake.AddAnnotatedTag("v0.1.0-dev.1", sha, "train", tagDate)
	e.fake.AddTag("v0.1.0-dev.2", sha)

	if got, err := e.gh.TagDate(t.Context(), "v0.1.0-dev.1"); err != nil || !got.Equal(tagDate) {
		t.Errorf("annotated: got %v, %v; want %v", got, err, tagDate)
	}
	if got, err := e.gh.TagDate(t.Context(), "v0.1.0-dev.2"); err != nil || !got.Equal(commitDate) {
		t.Errorf("lightweight: got %v, %v; want the commit's %v", got, err, commitDate)
	}
	if _, err := e.gh.TagDate(t.Context(), "v9.9.9-dev.1"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("missing tag: got %v, want ErrNotFound", err)
	}
}

func TestHeadCommitCompareContains(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.fake.AddCommit("main", "fix: base", start.Add(-3*time.Hour))
	mid := e.fake.AddCommit("main", "feat: middle\n\nbody", start.Add(-2*time.Hour))
	head := e.fake.AddCommit("main", "feat: head", start.Add(-time.Hour))
	e.fake.AddBranch("hotfix", base)
	side := e.fake.AddCommit("hotfix", "fix: side", start.Add(-90*time.Minute))

	h, err := e.gh.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if h.SHA != head || h.Title() != "feat: head" || h.Author != "octocat" || !h.Date.Equal(start.Add(-time.Hour)) || h.URL == "" {
		t.Errorf("Head = %+v", h)
	}
	if c, err := e.gh.Commit(t.Context(), mid[:7]); err != nil || c.SHA != mid || c.Title() != "feat: middle" {
		t.Errorf("Commit(short sha) = %+v, %v", c, err)
	}
	if c, err := e.gh.Commit(t.Context(), "hotfix"); err != nil || c.SHA != side {
		t.Errorf("Commit(branch) = %+v, %v", c, err)
	}
	if _, err := e.gh.Commit(t.Context(), "nope"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Commit(unknown) error = %v, want ErrNotFound", err)
	}

	cmpr, err := e.gh.Compare(t.Context(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, c := range cmpr.Commits {
		titles = append(titles, c.Title())
	}
	if diff := cmp.Diff([]string{"feat: middle", "feat: head"}, titles); diff != "" || cmpr.Total != 2 || cmpr.Behind != 0 || !strings.Contains(cmpr.URL, "/compare/") {
		t.Errorf("Compare = %+v (-want +got titles):\n%s", cmpr, diff)
	}
	// The side branch left base before mid and head: it lacks both.
	if d, err := e.gh.Compare(t.Context(), head, side); err != nil || d.Total != 1 || d.Behind != 2 {
		t.Errorf("Compare(head, side) = total %d behind %d, %v; want 1 and 2", d.Total, d.Behind, err)
	}

	for _, tc := range []struct {
		a, d string
		want bool
	}{
		{base, head, true},
		{head, head, true},
		{head, base, false},
		{side, head, false},
		{base, side, true},
	} {
		got, err := e.gh.Contains(t.Context(), tc.a, tc.d)
		if err != nil || got != tc.want {
			t.Errorf("Contains(%s, %s) = %v, %v; want %v", tc.a[:7], tc.d[:7], got, err, tc.want)
		}
	}

	e2 := newEnv(t, func(c *Config) { c.Branch = "release" })
	if _, err := e2.gh.Head(t.Context()); !errors.Is(err, trains.ErrNotFound) || !strings.Contains(err.Error(), "release branch release") {
		t.Errorf("Head of a missing branch: %v", err)
	}
}

func TestCreateTag(t *testing.T) {
	t.Parallel()
	const tag = "v0.5.0-dev.4"
	tests := []struct {
		name    string
		light   bool
		arrange func(e *env, commit, other string)
		// check looks at the outcome.
		check func(t *testing.T, e *env, commit string, err error)
	}{
		{
			name: "annotated",
			check: func(t *testing.T, e *env, commit string, err error) {
				got, ok := e.fake.Tag(tag)
				if err != nil || !ok || !got.Annotated || got.Commit != commit || got.Message != "train "+tag || !got.Date.Equal(start) {
					t.Errorf("err %v, tag %+v", err, got)
				}
				if runs := e.fake.Runs("publish-images.yaml"); len(runs) != 1 || runs[0].Branch != tag {
					t.Errorf("publish runs %+v, want one on the tag", runs)
				}
			},
		},
		{
			name:  "lightweight",
			light: true,
			check: func(t *testing.T, e *env, commit string, err error) {
				got, ok := e.fake.Tag(tag)
				if err != nil || !ok || got.Annotated || got.Commit != commit {
					t.Errorf("err %v, tag %+v", err, got)
				}
			},
		},
		{
			name:    "already on the same commit is success",
			arrange: func(e *env, commit, _ string) { e.fake.AddAnnotatedTag(tag, commit, "earlier", start) },
			check: func(t *testing.T, e *env, commit string, err error) {
				if err != nil {
					t.Errorf("got %v, want success", err)
				}
				if got, _ := e.fake.Tag(tag); got.Message != "earlier" {
					t.Errorf("the existing tag was changed: %+v", got)
				}
			},
		},
		{
			name:    "already on another commit is a conflict",
			arrange: func(e *env, _, other string) { e.fake.AddTag(tag, other) },
			check: func(t *testing.T, e *env, commit string, err error) {
				var conflict *trains.TagConflictError
				if !errors.As(err, &conflict) || conflict.Tag != tag || conflict.Want != commit || conflict.Existing == commit {
					t.Errorf("got %v, want a TagConflictError naming both commits", err)
				}
			},
		},
		{
			name: "5xx that still made the ref is success, without a second POST",
			arrange: func(e *env, _, _ string) {
				e.fake.Fail("POST", "git/refs", githubfake.BadGateway().Applied())
			},
			check: func(t *testing.T, e *env, commit string, err error) {
				if got, ok := e.fake.Tag(tag); err != nil || !ok || got.Commit != commit {
					t.Errorf("err %v, tag %+v", err, got)
				}
				if n := e.fake.Count("POST", "git/refs"); n != 1 {
					t.Errorf("%d POSTs of the ref, want 1", n)
				}
			},
		},
		{
			name: "5xx that made nothing is tried again after checking",
			arrange: func(e *env, _, _ string) {
				e.fake.Fail("POST", "git/refs", githubfake.ServerError())
			},
			check: func(t *testing.T, e *env, commit string, err error) {
				if got, ok := e.fake.Tag(tag); err != nil || !ok || got.Commit != commit {
					t.Errorf("err %v, tag %+v", err, got)
				}
				if n, g := e.fake.Count("POST", "git/refs"), e.fake.Count("GET", "git/ref/tags/"+tag); n != 2 || g != 1 {
					t.Errorf("%d POSTs and %d GETs of the ref, want 2 and 1", n, g)
				}
			},
		},
		{
			name: "a token without contents:write is told plainly",
			arrange: func(e *env, _, _ string) {
				e.fake.Fail("POST", "git/tags", githubfake.Forbidden())
			},
			check: func(t *testing.T, e *env, commit string, err error) {
				want := "GitHub refused to create tag " + tag + " on " + commit[:7] + ": the token lacks contents:write on acme/chain"
				var er *github.ErrorResponse
				if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &er) || er.Response.StatusCode != http.StatusForbidden || !errors.Is(err, trains.ErrRefused) {
					t.Errorf("got %v, want it to start %q and wrap the 403", err, want)
				}
			},
		},
		{
			name:    "bad credentials",
			arrange: func(e *env, _, _ string) { e.fake.Fail("", "git/tags", githubfake.Unauthorized()) },
			check: func(t *testing.T, e *env, commit string, err error) {
				if err == nil || !strings.Contains(err.Error(), "bad credentials") || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
					t.Errorf("got %v", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.Lightweight = tc.light })
			other := e.fake.AddCommit("main", "other", start.Add(-time.Hour))
			commit := e.fake.AddCommit("main", "train", start.Add(-time.Minute))
			if tc.arrange != nil {
				tc.arrange(e, commit, other)
			}
			err := e.gh.CreateTag(t.Context(), tag, commit, "train "+tag)
			tc.check(t, e, commit, err)
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, Config{Owner: "a", Repo: "b"}); err == nil {
		t.Error("New(nil client) succeeded")
	}
	if _, err := New(github.NewClient(nil), Config{}); err == nil || !strings.Contains(err.Error(), "TRAINBOT_REPO") {
		t.Errorf("New without a repo: %v", err)
	}
	g, err := New(github.NewClient(nil), Config{Owner: "a", Repo: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Config(); c.Branch != "main" || c.DeployWorkflow != "deploy-simple.yaml" || c.PollMin != 5*time.Second || c.PollMax != 30*time.Second {
		t.Errorf("defaults: %+v", c)
	}
}
