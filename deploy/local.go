package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// Local is the trains.Repo on a local git repository, for `trainbot
// console`: tags and commits are real and read and made with the git
// command; workflows do not exist locally, so they are printed, not run:
//
//   - Dispatch prints "would dispatch <workflow> ref=<tag> inputs k=v …";
//   - WaitPublish, FindDeployRun and WaitRun return at once a synthetic
//     completed, successful run on the tag (FindDeployRun numbers them
//     1, 2, …; WaitRun echoes the id it is given);
//   - DeployRuns returns none (there are no deploys to detect).
//
// It is safe for concurrent use.
type Local struct {
	dir      string
	branch   string
	workflow string
	clock    trains.Clock

	mu     sync.Mutex
	out    io.Writer
	nextID int64
}

var _ trains.Repo = (*Local)(nil)

// NewLocal returns the Repo on the git repository in dir (the current
// directory when ""), releasing branch (default main) and printing the
// dispatches of deployWorkflow (default deploy-simple.yaml) to out.
// Options may set the clock that dates synthetic runs.
func NewLocal(dir, branch, deployWorkflow string, out io.Writer, opts ...Option) *Local {
	if dir == "" {
		dir = "."
	}
	if branch == "" {
		branch = "main"
	}
	if deployWorkflow == "" {
		deployWorkflow = "deploy-simple.yaml"
	}
	if out == nil {
		out = io.Discard
	}
	return &Local{dir: dir, branch: branch, workflow: deployWorkflow, clock: buildOptions(opts).clock, out: out}
}

// gitError is a failed git command with what it printed.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), msg)
}

func (e *gitError) Unwrap() error { return e.err }

// exitCode is the exit status of a failed git, -1 when it did not run.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// git runs git in the repository and returns its standard output.
func (l *Local) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", l.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "GIT_PAGER=cat")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &gitError{args: args, stderr: stderr.String(), err: err}
	}
	return stdout.String(), nil
}

// checkRef refuses names git would read as options.
func checkRef(ref string) error {
	if ref == "" || strings.HasPrefix(ref, "-") {
		return fmt.Errorf("%q is not a commit, branch or tag name", ref)
	}
	return nil
}

// resolve returns the commit ref names. ErrNotFound: none.
func (l *Local) resolve(ctx context.Context, ref string) (string, error) {
	if err := checkRef(ref); err != nil {
		return "", err
	}
	out, err := l.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		if exitCode(err) == 1 {
			return "", fmt.Errorf("no commit %s in %s: %w", ref, l.dir, trains.ErrNotFound)
		}
		return "", err
	}
	return strings.TrimSpace(out), nil
}

const tagFormat = "%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objectname)%00%(creatordate:iso-strict)"

// Tags lists the tags named v*, peeled, with the tagger date of annotated
// tags (git for-each-ref refs/tags/v*).
func (l *Local) Tags(ctx context.Context) ([]trains.RepoTag, error) {
	return l.tags(ctx, "refs/tags/v*")
}

// LineTags lists the tags whose names begin with v<line>-.
func (l *Local) LineTags(ctx context.Context, line trains.Line) ([]trains.RepoTag, error) {
	return l.tags(ctx, "refs/tags/v"+line.String()+"-*")
}

// tags lists the tags matching pattern, a for-each-ref pattern.
func (l *Local) tags(ctx context.Context, pattern string) ([]trains.RepoTag, error) {
	out, err := l.git(ctx, "for-each-ref", "--format="+tagFormat, pattern)
	if err != nil {
		return nil, fmt.Errorf("list the tags: %w", err)
	}
	var tags []trains.RepoTag
	for line := range strings.Lines(out) {
		t, _, ok := parseTagLine(line)
		if ok {
			tags = append(tags, t)
		}
	}
	return tags, nil
}

// parseTagLine reads a tagFormat line; creator is the creator date (the
// committer date for a lightweight tag).
func parseTagLine(line string) (trains.RepoTag, time.Time, bool) {
	f := strings.Split(strings.TrimRight(line, "\n"), "\x00")
	if len(f) != 5 {
		return trains.RepoTag{}, time.Time{}, false
	}
	created, _ := time.Parse(time.RFC3339, f[4])
	t := trains.RepoTag{Name: f[0], Commit: f[2]}
	if f[1] == "tag" {
		t.Commit, t.Date = f[3], created.UTC()
	}
	return t, created.UTC(), true
}

// TagDate returns an annotated tag's tagger date, else its commit's
// committer date. ErrNotFound: no such tag.
func (l *Local) TagDate(ctx context.Context, name string) (time.Time, error) {
	if err := checkRef(name); err != nil {
		return time.Time{}, err
	}
	out, err := l.git(ctx, "for-each-ref", "--format="+tagFormat, "refs/tags/"+name)
	if err != nil {
		return time.Time{}, fmt.Errorf("read tag %s: %w", name, err)
	}
	for line := range strings.Lines(out) {
		if t, created, ok := parseTagLine(line); ok && t.Name == name {
			return created, nil
		}
	}
	return time.Time{}, fmt.Errorf("no tag %s in %s: %w", name, l.dir, trains.ErrNotFound)
}

// Head returns the commit at the head of the release branch.
func (l *Local) Head(ctx context.Context) (trains.Commit, error) {
	c, err := l.Commit(ctx, "refs/heads/"+l.branch)
	if errors.Is(err, trains.ErrNotFound) {
		return c, fmt.Errorf("the release branch %s does not exist in %s: %w", l.branch, l.dir, trains.ErrNotFound)
	}
	return c, err
}

const commitFormat = "%H%x00%an%x00%aI%x00%B%x1e"

// Commit resolves a sha, branch or tag. ErrNotFound: no such commit.
func (l *Local) Commit(ctx context.Context, ref string) (trains.Commit, error) {
	sha, err := l.resolve(ctx, ref)
	if err != nil {
		return trains.Commit{}, err
	}
	out, err := l.git(ctx, "show", "-s", "--format="+commitFormat, sha)
	if err != nil {
		return trains.Commit{}, fmt.Errorf("read commit %s: %w", ref, err)
	}
	cs := parseCommits(out)
	if len(cs) != 1 {
		return trains.Commit{}, fmt.Errorf("read commit %s: unexpected output %q", ref, out)
	}
	return cs[0], nil
}

// Branch returns the commit at the head of branch name (git rev-parse
// --verify refs/heads/<name>^{commit}). ErrNotFound: no such branch.
func (l *Local) Branch(ctx context.Context, name string) (trains.Commit, error) {
	if err := checkRef(name); err != nil {
		return trains.Commit{}, err
	}
	c, err := l.Commit(ctx, "refs/heads/"+name)
	if errors.Is(err, trains.ErrNotFound) {
		return c, fmt.Errorf("no branch %s in %s: %w", name, l.dir, trains.ErrNotFound)
	}
	return c, err
}

// BranchContaining returns a branch whose history contains commit sha,
// the release branch when it does (git for-each-ref --contains).
// ErrNotFound: no branch does, or there is no such commit.
func (l *Local) BranchContaining(ctx context.Context, sha string) (string, error) {
	full, err := l.resolve(ctx, sha)
	if err != nil {
		return "", err
	}
	out, err := l.git(ctx, "for-each-ref", "--format=%(refname:strip=2)", "--contains="+full, "refs/heads")
	if err != nil {
		return "", fmt.Errorf("find the branches that contain %s: %w", trains.ShortSHA(full), err)
	}
	var first string
	for line := range strings.Lines(out) {
		b := strings.TrimRight(line, "\n")
		if b == l.branch {
			return b, nil
		}
		if first == "" {
			first = b
		}
	}
	if first == "" {
		return "", fmt.Errorf("no branch of %s contains commit %s: %w", l.dir, trains.ShortSHA(full), trains.ErrNotFound)
	}
	return first, nil
}

func parseCommits(out string) []trains.Commit {
	var cs []trains.Commit
	for rec := range strings.SplitSeq(out, "\x1e") {
		f := strings.SplitN(strings.TrimLeft(rec, "\n"), "\x00", 4)
		if len(f) != 4 {
			continue
		}
		date, _ := time.Parse(time.RFC3339, f[2])
		cs = append(cs, trains.Commit{SHA: f[0], Author: f[1], Date: date.UTC(), Message: strings.TrimRight(f[3], "\n")})
	}
	return cs
}

// Compare returns the commits in head not in base, oldest first (at most
// 250, as GitHub), how many there are, and how many of base's head lacks.
// There is no compare view.
func (l *Local) Compare(ctx context.Context, base, head string) (trains.Comparison, error) {
	b, err := l.resolve(ctx, base)
	if err != nil {
		return trains.Comparison{}, err
	}
	h, err := l.resolve(ctx, head)
	if err != nil {
		return trains.Comparison{}, err
	}
	count, err := l.git(ctx, "rev-list", "--count", b+".."+h)
	if err != nil {
		return trains.Comparison{}, fmt.Errorf("compare %s with %s: %w", base, head, err)
	}
	total, _ := strconv.Atoi(strings.TrimSpace(count))
	count, err = l.git(ctx, "rev-list", "--count", h+".."+b)
	if err != nil {
		return trains.Comparison{}, fmt.Errorf("compare %s with %s: %w", base, head, err)
	}
	behind, _ := strconv.Atoi(strings.TrimSpace(count))
	out, err := l.git(ctx, "log", "--format="+commitFormat, "--max-count=250", b+".."+h)
	if err != nil {
		return trains.Comparison{}, fmt.Errorf("compare %s with %s: %w", base, head, err)
	}
	cs := parseCommits(out)
	slices.Reverse(cs)
	return trains.Comparison{Commits: cs, Total: total, Behind: behind}, nil
}

// Log returns the commits reachable from ref, newest first, at most limit
// (git log), and whether older ones exist.
func (l *Local) Log(ctx context.Context, ref string, limit int) ([]trains.Commit, bool, error) {
	r, err := l.resolve(ctx, ref)
	if err != nil {
		return nil, false, err
	}
	limit = min(max(limit, 1), 100)
	out, err := l.git(ctx, "log", "--format="+commitFormat, "--max-count="+strconv.Itoa(limit+1), r)
	if err != nil {
		return nil, false, fmt.Errorf("list the history of %s: %w", ref, err)
	}
	cs := parseCommits(out)
	if len(cs) > limit {
		return cs[:limit], true, nil
	}
	return cs, false, nil
}

// Contains reports whether ancestor is reachable from descendant (git
// merge-base --is-ancestor).
func (l *Local) Contains(ctx context.Context, ancestor, descendant string) (bool, error) {
	a, err := l.resolve(ctx, ancestor)
	if err != nil {
		return false, err
	}
	d, err := l.resolve(ctx, descendant)
	if err != nil {
		return false, err
	}
	_, err = l.git(ctx, "merge-base", "--is-ancestor", a, d)
	switch {
	case err == nil:
		return true, nil
	case exitCode(err) == 1:
		return false, nil
	}
	return false, fmt.Errorf("check whether %s is in %s: %w", trains.ShortSHA(a), trains.ShortSHA(d), err)
}

// CreateTag makes an annotated tag name on commit (git tag -a). The tag
// already on commit is success; on another commit a
// *trains.TagConflictError.
func (l *Local) CreateTag(ctx context.Context, name, commit, message string) error {
	want, err := l.resolve(ctx, commit)
	if err != nil {
		return fmt.Errorf("create tag %s: %w", name, err)
	}
	if err := checkRef(name); err != nil {
		return err
	}
	if message == "" {
		message = "trainbot: " + name
	}
	check := func() (bool, error) {
		have, err := l.resolve(ctx, "refs/tags/"+name)
		switch {
		case errors.Is(err, trains.ErrNotFound):
			return false, nil
		case err != nil:
			return false, err
		case have != want:
			return true, &trains.TagConflictError{Tag: name, Existing: have, Want: want}
		}
		return true, nil
	}
	if exists, err := check(); exists || err != nil {
		return err
	}
	if _, err := l.git(ctx, "tag", "-a", "-m", message, "--", name, want); err != nil {
		// Someone may have made it meanwhile.
		if exists, cerr := check(); exists || cerr != nil {
			return cerr
		}
		return fmt.Errorf("create tag %s on %s: %w", name, trains.ShortSHA(want), err)
	}
	return nil
}

func (l *Local) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, format+"\n", args...)
}

func (l *Local) synthetic(id int64, tag, event string) trains.Run {
	return trains.Run{ID: id, Workflow: l.workflow, Ref: tag, Event: event, Status: "completed", Conclusion: "success", Created: l.clock.Now()}
}

// WaitPublish returns at once a synthetic successful run on tag: there is
// no publish workflow locally.
func (l *Local) WaitPublish(ctx context.Context, tag string) (trains.Run, error) {
	r := l.synthetic(0, tag, "push")
	r.Workflow = ""
	return r, ctx.Err()
}

// Dispatch prints the dispatch it would make.
func (l *Local) Dispatch(ctx context.Context, tag string, inputs map[string]string) error {
	var in []string
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		in = append(in, k+"="+inputs[k])
	}
	l.printf("would dispatch %s ref=%s inputs %s", l.workflow, tag, strings.Join(in, " "))
	return ctx.Err()
}

// FindDeployRun returns at once a synthetic successful run on tag.
func (l *Local) FindDeployRun(ctx context.Context, tag string, _ time.Time) (trains.Run, error) {
	l.mu.Lock()
	l.nextID++
	id := l.nextID
	l.mu.Unlock()
	return l.synthetic(id, tag, "workflow_dispatch"), ctx.Err()
}

// WaitRun returns at once a synthetic successful run with that id: a
// local repository has no environments, so its runs never wait for a
// review.
func (l *Local) WaitRun(ctx context.Context, id int64, _ bool) (trains.Run, error) {
	return l.synthetic(id, "", "workflow_dispatch"), ctx.Err()
}

// PendingDeployments returns none: local runs never wait for a review.
func (l *Local) PendingDeployments(ctx context.Context, _ int64) ([]trains.PendingDeployment, error) {
	return nil, ctx.Err()
}

// DeploymentReviews returns none: local runs are never reviewed.
func (l *Local) DeploymentReviews(ctx context.Context, _ int64) ([]trains.DeploymentReview, error) {
	return nil, ctx.Err()
}

// DeployRuns returns none: nothing deploys from a local repository.
func (l *Local) DeployRuns(ctx context.Context, _ time.Time) ([]trains.Run, error) {
	return nil, ctx.Err()
}
