package githubfake_test

import (
	"errors"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// statusOf returns the HTTP status and message of a go-github error.
func statusOf(t *testing.T, err error) (int, string) {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("error %v is not a *github.ErrorResponse", err)
	}
	return er.Response.StatusCode, er.Message
}

func TestContentsCreateUpdateAndShaChecks(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	const p = "docs/governance/release-calendar.md"

	_, _, _, err := c.Repositories.GetContents(ctx, o, r, p, &github.RepositoryContentGetOptions{Ref: "main"})
	if code, _ := statusOf(t, err); code != 404 {
		t.Fatalf("GET of a missing file: %d", code)
	}
	created, resp, err := c.Repositories.CreateFile(ctx, o, r, p, &github.RepositoryContentFileOptions{
		Message: github.String("add calendar [skip ci]"), Content: []byte("one\n"), Branch: github.String("main")})
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: %v, %v", resp, err)
	}
	if got, _ := fake.File("main", p); got != "one\n" {
		t.Errorf("file = %q", got)
	}
	if fake.CommitMessage("main") != "add calendar [skip ci]" || fake.Head("main") != created.Commit.GetSHA() {
		t.Errorf("head %s %q, commit %s", fake.Head("main"), fake.CommitMessage("main"), created.Commit.GetSHA())
	}
	fc, _, _, err := c.Repositories.GetContents(ctx, o, r, p, &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := fc.GetContent(); text != "one\n" || fc.GetSHA() != created.Content.GetSHA() || fc.GetEncoding() != "base64" {
		t.Errorf("GET = %q sha %s (created %s)", text, fc.GetSHA(), created.Content.GetSHA())
	}

	// Without the sha: 422; with a stale one: 409.
	_, _, err = c.Repositories.CreateFile(ctx, o, r, p, &github.RepositoryContentFileOptions{
		Message: github.String("again"), Content: []byte("two\n"), Branch: github.String("main")})
	if code, msg := statusOf(t, err); code != 422 || msg != "Invalid request.\n\n\"sha\" wasn't supplied." {
		t.Errorf("PUT without sha: %d %q", code, msg)
	}
	_, _, err = c.Repositories.UpdateFile(ctx, o, r, p, &github.RepositoryContentFileOptions{
		Message: github.String("again"), Content: []byte("two\n"), Branch: github.String("main"), SHA: github.String("0123456789abcdef0123456789abcdef01234567")})
	if code, _ := statusOf(t, err); code != 409 {
		t.Errorf("PUT with a stale sha: %d", code)
	}
	_, resp, err = c.Repositories.UpdateFile(ctx, o, r, p, &github.RepositoryContentFileOptions{
		Message: github.String("again"), Content: []byte("two\n"), Branch: github.String("main"), SHA: fc.SHA})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("update: %v", err)
	}
	if got, _ := fake.File("main", p); got != "two\n" {
		t.Errorf("file = %q", got)
	}
	_, _, err = c.Repositories.CreateFile(ctx, o, r, "x.md", &github.RepositoryContentFileOptions{
		Message: github.String("x"), Content: []byte("x"), Branch: github.String("nope")})
	if code, _ := statusOf(t, err); code != 404 {
		t.Errorf("PUT to a missing branch: %d", code)
	}
}

func TestProtectedBranchAndPulls(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	fake.Protect("main")

	_, _, err := c.Repositories.CreateFile(ctx, o, r, "cal.md", &github.RepositoryContentFileOptions{
		Message: github.String("x"), Content: []byte("x"), Branch: github.String("main")})
	if code, msg := statusOf(t, err); code != 409 || msg == "" {
		t.Errorf("PUT to a protected branch: %d %q", code, msg)
	}
	b, _, err := c.Repositories.GetBranch(ctx, o, r, "main", 0)
	if err != nil || !b.GetProtected() {
		t.Errorf("branch = %+v, %v", b, err)
	}
	head := fake.Head("main")
	_, _, err = c.Git.UpdateRef(ctx, o, r, &github.Reference{Ref: github.String("heads/main"), Object: &github.GitObject{SHA: &head}}, true)
	if code, _ := statusOf(t, err); code != 422 {
		t.Errorf("PATCH a protected ref: %d", code)
	}

	// The bot's branch: created, written, moved by force.
	ref := "refs/heads/trainbot/release-calendar"
	if _, _, err := c.Git.CreateRef(ctx, o, r, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &head}}); err != nil {
		t.Fatal(err)
	}
	opts := &github.NewPullRequest{Title: github.String("calendar"), Head: github.String("trainbot/release-calendar"), Base: github.String("main")}
	_, _, err = c.PullRequests.Create(ctx, o, r, opts)
	if code, _ := statusOf(t, err); code != 422 {
		t.Errorf("PR with no commits: %d", code)
	}
	if _, _, err := c.Repositories.CreateFile(ctx, o, r, "cal.md", &github.RepositoryContentFileOptions{
		Message: github.String("x"), Content: []byte("x"), Branch: github.String("trainbot/release-calendar")}); err != nil {
		t.Fatal(err)
	}
	pr, resp, err := c.PullRequests.Create(ctx, o, r, opts)
	if err != nil || resp.StatusCode != 201 || pr.GetHead().GetRef() != "trainbot/release-calendar" || pr.GetState() != "open" {
		t.Fatalf("create PR: %+v, %v", pr, err)
	}
	_, _, err = c.PullRequests.Create(ctx, o, r, opts)
	if code, _ := statusOf(t, err); code != 422 {
		t.Errorf("a second PR from the same head: %d", code)
	}
	list, _, err := c.PullRequests.List(ctx, o, r, &github.PullRequestListOptions{State: "open", Head: o + ":trainbot/release-calendar", Base: "main"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
		t.Fatalf("list = %v, %v", list, err)
	}
	if l, _, _ := c.PullRequests.List(ctx, o, r, &github.PullRequestListOptions{Head: o + ":other"}); len(l) != 0 {
		t.Errorf("head filter let through %d", len(l))
	}
	up, _, err := c.PullRequests.Edit(ctx, o, r, pr.GetNumber(), &github.PullRequest{Body: github.String("new body")})
	if err != nil || up.GetBody() != "new body" || up.GetTitle() != "calendar" {
		t.Errorf("edit = %+v, %v", up, err)
	}
	if ps := fake.Pulls(); len(ps) != 1 || ps[0].Body != "new body" {
		t.Errorf("pulls = %+v", ps)
	}
	root := fake.Head("main")
	if _, _, err := c.Git.UpdateRef(ctx, o, r, &github.Reference{Ref: github.String(ref), Object: &github.GitObject{SHA: &root}}, false); err == nil {
		t.Error("a rewind without force was accepted")
	}
	if _, _, err := c.Git.UpdateRef(ctx, o, r, &github.Reference{Ref: github.String(ref), Object: &github.GitObject{SHA: &root}}, true); err != nil {
		t.Errorf("forced rewind: %v", err)
	}
	if fake.Head("trainbot/release-calendar") != root {
		t.Error("ref not moved")
	}
}
