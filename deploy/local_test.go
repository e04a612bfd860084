package deploy

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/testenv"
	"github.com/trainbot/trainbot/trains"
)

// gitRepo makes a git repository in a temporary directory, with no need
// for a global git configuration.
type gitRepo struct {
	t   *testing.T
	dir string
	n   int
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		// The local repository is the console's; CI installs git (.ci/run).
		testenv.Missing(t, "git is not installed: the local-repository tests need it (apt-get install git, as .ci/run does)")
	}
	t.Setenv("GIT_AUTHOR_NAME", "Ana")
	t.Setenv("GIT_AUTHOR_EMAIL", "ana@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "Ana")
	t.Setenv("GIT_COMMITTER_EMAIL", "ana@example.com")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit adds a commit dated at, and returns its sha.
func (r *gitRepo) commit(msg string, at time.Time) string {
	r.t.Helper()
	r.n++
	if err := os.WriteFile(r.dir+"/file", []byte(msg), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", "file")
	date := at.Format(time.RFC3339)
	cmd := exec.Command("git", "-C", r.dir, "commit", "-q", "-m", msg)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git commit: %v\n%s", err, out)
	}
	return r.git("rev-parse", "HEAD")
}

func TestLocal(t *testing.T) {
	repo := newGitRepo(t)
	c1 := repo.commit("feat: one", start.Add(-3*time.Hour))
	c2 := repo.commit("feat: two\n\nwith a body", start.Add(-2*time.Hour))
	c3 := repo.commit("fix: three", start.Add(-time.Hour))
	repo.git("tag", "v0.1.0-dev.1", c1) // lightweight
	repo.git("tag", "sdk-v1.0.0", c1)   // not a v tag
	var out strings.Builder
	l := NewLocal(repo.dir, "main", "", &out)
	ctx := t.Context()

	h, err := l.Head(ctx)
	if err != nil || h.SHA != c3 || h.Title() != "fix: three" || h.Author != "Ana" || !h.Date.Equal(start.Add(-time.Hour)) {
		t.Errorf("Head = %+v, %v", h, err)
	}
	if c, err := l.Commit(ctx, c2[:8]); err != nil || c.SHA != c2 || c.Message != "feat: two\n\nwith a body" {
		t.Errorf("Commit = %+v, %v", c, err)
	}
	if _, err := l.Commit(ctx, "nope"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Commit(nope) = %v, want ErrNotFound", err)
	}
	if _, err := l.Commit(ctx, "--all"); err == nil {
		t.Error("an option was taken for a ref")
	}

	cmp, err := l.Compare(ctx, c1, c3)
	if err != nil || cmp.Total != 2 || cmp.Behind != 0 || len(cmp.Commits) != 2 || cmp.Commits[0].SHA != c2 || cmp.Commits[1].SHA != c3 {
		t.Errorf("Compare = %+v, %v", cmp, err)
	}
	if cs, more, err := l.Log(ctx, c3, 2); err != nil || !more || len(cs) != 2 || cs[0].SHA != c3 || cs[1].SHA != c2 {
		t.Errorf("Log(c3, 2) = %+v, %v, %v; want c3, c2 and more", cs, more, err)
	}
	if cs, more, err := l.Log(ctx, c3, 10); err != nil || more || len(cs) != 3 || cs[2].SHA != c1 {
		t.Errorf("Log(c3, 10) = %+v, %v, %v; want the 3 commits and no more", cs, more, err)
	}
	if _, _, err := l.Log(ctx, "nope", 10); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Log(nope) = %v, want ErrNotFound", err)
	}
	if back, err := l.Compare(ctx, c3, c1); err != nil || back.Total != 0 || back.Behind != 2 {
		t.Errorf("Compare(c3, c1) = %+v, %v; want 2 behind", back, err)
	}
	if in, err := l.Contains(ctx, c1, c3); err != nil || !in {
		t.Errorf("Contains(c1, c3) = %v, %v", in, err)
	}
	if in, err := l.Contains(ctx, c3, c1); err != nil || in {
		t.Errorf("Contains(c3, c1) = %v, %v", in, err)
	}

	// Create, again (idempotent), and on another commit (conflict).
	if err := l.CreateTag(ctx, "v0.1.0-dev.2", c3, "train v0.1.0-dev.2"); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateTag(ctx, "v0.1.0-dev.2", c3, ""); err != nil {
		t.Errorf("the same tag again: %v", err)
	}
	var conflict *trains.TagConflictError
	if err := l.CreateTag(ctx, "v0.1.0-dev.2", c2, ""); !errors.As(err, &conflict) || conflict.Existing != c3 || conflict.Want != c2 {
		t.Errorf("another commit: %v", err)
	}

	tags, err := l.Tags(ctx)
	if err != nil || len(tags) != 2 {
		t.Fatalf("Tags = %+v, %v", tags, err)
	}
	if tags[0] != (trains.RepoTag{Name: "v0.1.0-dev.1", Commit: c1}) {
		t.Errorf("lightweight tag %+v", tags[0])
	}
	if tags[1].Name != "v0.1.0-dev.2" || tags[1].Commit != c3 || tags[1].Date.IsZero() {
		t.Errorf("annotated tag %+v: want peeled, with its date", tags[1])
	}
	if d, err := l.TagDate(ctx, "v0.1.0-dev.1"); err != nil || !d.Equal(start.Add(-3*time.Hour)) {
		t.Errorf("TagDate(lightweight) = %v, %v; want the commit date", d, err)
	}
	if d, err := l.TagDate(ctx, "v0.1.0-dev.2"); err != nil || !d.Equal(tags[1].Date) {
		t.Errorf("TagDate(annotated) = %v, %v", d, err)
	}
	if _, err := l.TagDate(ctx, "v9.0.0-dev.1"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("TagDate(missing) = %v", err)
	}

	// Workflows are printed, waits succeed at once.
	if err := l.Dispatch(ctx, "v0.1.0-dev.2", trains.Dev.WorkflowInputs()); err != nil {
		t.Fatal(err)
	}
	pub, err := l.WaitPublish(ctx, "v0.1.0-dev.2")
	if err != nil || !pub.Succeeded() {
		t.Errorf("WaitPublish = %+v, %v", pub, err)
	}
	run, err := l.FindDeployRun(ctx, "v0.1.0-dev.2", start)
	if err != nil || !run.Succeeded() || run.Ref != "v0.1.0-dev.2" || run.ID != 1 {
		t.Errorf("FindDeployRun = %+v, %v", run, err)
	}
	if r, err := l.WaitRun(ctx, run.ID, false); err != nil || !r.Succeeded() || r.ID != run.ID {
		t.Errorf("WaitRun = %+v, %v", r, err)
	}
	// A local repository has no environments: its runs never wait.
	if p, err := l.PendingDeployments(ctx, run.ID); err != nil || len(p) != 0 {
		t.Errorf("PendingDeployments = %+v, %v", p, err)
	}
	if r, err := l.DeploymentReviews(ctx, run.ID); err != nil || len(r) != 0 {
		t.Errorf("DeploymentReviews = %+v, %v", r, err)
	}
	if runs, err := l.DeployRuns(ctx, start); err != nil || len(runs) != 0 {
		t.Errorf("DeployRuns = %+v, %v", runs, err)
	}
	want := "would dispatch deploy-simple.yaml ref=v0.1.0-dev.2 inputs environment=dev release_type=dev\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}

	other := NewLocal(repo.dir, "release", "", nil)
	if _, err := other.Head(ctx); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Head of a missing branch: %v", err)
	}
}
