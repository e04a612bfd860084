package trainstest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// This file is the trains.Repo port of the in-memory Repo. Every method
// records its call, returns an error FailNext queued for it, or ctx's.

// Contains reports whether ancestor is reachable from descendant.
// ErrNotFound: either is no commit.
func (r *Repo) Contains(ctx context.Context, ancestor, descendant string) (bool, error) {
	unlock, err := r.enter(ctx, "Contains", ancestor+" "+descendant)
	if err != nil {
		return false, err
	}
	defer unlock()
	a, err := r.resolveLocked(ancestor)
	if err != nil {
		return false, err
	}
	d, err := r.resolveLocked(descendant)
	if err != nil {
		return false, err
	}
	return r.ancestorsLocked(d)[a], nil
}

// Tags lists every tag named v…, by name, peeled, with the date of the
// annotated ones.
func (r *Repo) Tags(ctx context.Context) ([]trains.RepoTag, error) {
	unlock, err := r.enter(ctx, "Tags", "")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.tagsLocked("v"), nil
}

// LineTags lists the tags whose names begin with v<line>-, as Tags.
func (r *Repo) LineTags(ctx context.Context, line trains.Line) ([]trains.RepoTag, error) {
	unlock, err := r.enter(ctx, "LineTags", line.String())
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.tagsLocked("v" + line.String() + "-"), nil
}

// TagDate returns an annotated tag's date, else its commit's.
// ErrNotFound: no such tag.
func (r *Repo) TagDate(ctx context.Context, name string) (time.Time, error) {
	unlock, err := r.enter(ctx, "TagDate", name)
	if err != nil {
		return time.Time{}, err
	}
	defer unlock()
	tg, ok := r.tags[name]
	switch {
	case !ok:
		return time.Time{}, fmt.Errorf("no tag %s in acme/chain: %w", name, trains.ErrNotFound)
	case tg.annotated:
		return tg.date, nil
	}
	return r.commits[tg.commit].Date, nil
}

// Head returns the commit at the head of the release branch, main.
func (r *Repo) Head(ctx context.Context) (trains.Commit, error) {
	unlock, err := r.enter(ctx, "Head", "")
	if err != nil {
		return trains.Commit{}, err
	}
	defer unlock()
	return r.branchLocked(r.release)
}

// Commit resolves a sha (or unique prefix of 7 or more), branch or tag.
// ErrNotFound: no such commit.
func (r *Repo) Commit(ctx context.Context, ref string) (trains.Commit, error) {
	unlock, err := r.enter(ctx, "Commit", ref)
	if err != nil {
		return trains.Commit{}, err
	}
	defer unlock()
	sha, err := r.resolveLocked(ref)
	if err != nil {
		return trains.Commit{}, err
	}
	return r.commits[sha].Commit, nil
}

// Branch returns the commit at the head of branch name. ErrNotFound: no
// such branch.
func (r *Repo) Branch(ctx context.Context, name string) (trains.Commit, error) {
	unlock, err := r.enter(ctx, "Branch", name)
	if err != nil {
		return trains.Commit{}, err
	}
	defer unlock()
	return r.branchLocked(name)
}

func (r *Repo) branchLocked(name string) (trains.Commit, error) {
	sha, ok := r.branches[name]
	if !ok {
		return trains.Commit{}, fmt.Errorf("acme/chain has no branch %s: %w", name, trains.ErrNotFound)
	}
	return r.commits[sha].Commit, nil
}

// BranchContaining returns the release branch when it contains sha, else
// the first other branch by name that does. ErrNotFound: none does, or
// there is no such commit. (ErrRefused, for too many branches, only
// through FailNext.)
func (r *Repo) BranchContaining(ctx context.Context, sha string) (string, error) {
	unlock, err := r.enter(ctx, "BranchContaining", sha)
	if err != nil {
		return "", err
	}
	defer unlock()
	full, err := r.resolveLocked(sha)
	if err != nil {
		return "", err
	}
	names := []string{r.release}
	for b := range r.branches {
		if b != r.release {
			names = append(names, b)
		}
	}
	slices.Sort(names[1:])
	for _, b := range names {
		if head, ok := r.branches[b]; ok && r.ancestorsLocked(head)[full] {
			return b, nil
		}
	}
	return "", fmt.Errorf("no branch of acme/chain contains %s: %w", full[:7], trains.ErrNotFound)
}

// Compare returns the commits reachable from head and not from base,
// oldest first: the newest MaxCompare when there are more; Total counts
// them all. ErrNotFound: base or head is no commit.
func (r *Repo) Compare(ctx context.Context, base, head string) (trains.Comparison, error) {
	unlock, err := r.enter(ctx, "Compare", base+"..."+head)
	if err != nil {
		return trains.Comparison{}, err
	}
	defer unlock()
	b, err := r.resolveLocked(base)
	if err != nil {
		return trains.Comparison{}, err
	}
	h, err := r.resolveLocked(head)
	if err != nil {
		return trains.Comparison{}, err
	}
	inBase, inHead := r.ancestorsLocked(b), r.ancestorsLocked(h)
	var cs []*memCommit
	for sha := range inHead {
		if !inBase[sha] {
			cs = append(cs, r.commits[sha])
		}
	}
	behind := 0
	for sha := range inBase {
		if !inHead[sha] {
			behind++
		}
	}
	slices.SortFunc(cs, func(x, y *memCommit) int { return x.seq - y.seq })
	out := trains.Comparison{Total: len(cs), Behind: behind, URL: repoURL + "/compare/" + b[:7] + "..." + h[:7]}
	for _, c := range cs[max(0, len(cs)-MaxCompare):] {
		out.Commits = append(out.Commits, c.Commit)
	}
	return out, nil
}

// Log returns the commits reachable from ref, newest first, at most limit
// (1 to 100), and whether older ones exist.
func (r *Repo) Log(ctx context.Context, ref string, limit int) ([]trains.Commit, bool, error) {
	unlock, err := r.enter(ctx, "Log", ref)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	h, err := r.resolveLocked(ref)
	if err != nil {
		return nil, false, err
	}
	var cs []*memCommit
	for sha := range r.ancestorsLocked(h) {
		cs = append(cs, r.commits[sha])
	}
	slices.SortFunc(cs, func(x, y *memCommit) int { return y.seq - x.seq })
	limit = min(max(limit, 1), 100)
	var out []trains.Commit
	for _, c := range cs[:min(limit, len(cs))] {
		out = append(out, c.Commit)
	}
	return out, len(cs) > limit, nil
}

// CreateTag makes annotated tag name on commit, dated now, and starts its
// publish run as SetPublish says. The tag already on commit is success
// (no new run); on another commit a *trains.TagConflictError. A commit
// that does not exist is refused (trains.ErrRefused).
func (r *Repo) CreateTag(ctx context.Context, name, commit, message string) error {
	unlock, err := r.enter(ctx, "CreateTag", name+" "+commit)
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := r.commits[commit]; !ok {
		return fmt.Errorf("create tag %s: acme/chain has no commit %s: %w", name, commit, trains.ErrRefused)
	}
	if tg, ok := r.tags[name]; ok {
		if tg.commit != commit {
			return &trains.TagConflictError{Tag: name, Existing: tg.commit, Want: commit}
		}
		return nil
	}
	r.tags[name] = memTag{commit: commit, annotated: true, date: r.clock.Now().UTC()}
	if r.publish != RunNever {
		r.startLocked(PublishWorkflow, name, commit, "push", r.publish)
	}
	return nil
}

// WaitPublish returns the newest publish run on tag at once, whatever its
// conclusion. ErrRunNotFound: there is none. A run still in progress (one
// StartRun made) is an error that is not ErrRunNotFound, as when GitHub's
// run outlasts the wait.
func (r *Repo) WaitPublish(ctx context.Context, tag string) (trains.Run, error) {
	unlock, err := r.enter(ctx, "WaitPublish", tag)
	if err != nil {
		return trains.Run{}, err
	}
	defer unlock()
	run, ok := r.newestLocked(func(run trains.Run) bool { return run.Workflow == PublishWorkflow && run.Ref == tag })
	if !ok {
		return trains.Run{}, fmt.Errorf("%s started no run for tag %s: %w", PublishWorkflow, tag, trains.ErrRunNotFound)
	}
	if !run.Completed() {
		return run, fmt.Errorf("the publish run of %s is still %s: see %s", tag, run.Status, run.URL)
	}
	return run, nil
}

// Dispatch records a dispatch of the deploy workflow on tag and starts its
// run as SetDeploy says. A ref that is no tag or branch is refused
// (trains.ErrRefused), as GitHub's "No ref found".
func (r *Repo) Dispatch(ctx context.Context, tag string, inputs map[string]string) error {
	unlock, err := r.enter(ctx, "Dispatch", tag)
	if err != nil {
		return err
	}
	defer unlock()
	sha := r.tags[tag].commit
	if sha == "" {
		sha = r.branches[tag]
	}
	if sha == "" {
		return fmt.Errorf("dispatch %s on %s: acme/chain has no tag or branch %s: %w", DeployWorkflow, tag, tag, trains.ErrRefused)
	}
	in := make(map[string]string, len(inputs))
	for k, v := range inputs {
		in[k] = v
	}
	r.dispatches = append(r.dispatches, Dispatch{Ref: tag, Inputs: in, At: r.clock.Now()})
	if r.deploy != RunNever {
		r.startLocked(DeployWorkflow, tag, sha, "workflow_dispatch", r.deploy)
	}
	return nil
}

// FindDeployRun returns the newest dispatched deploy run on tag created
// at or after since. ErrRunNotFound: there is none.
func (r *Repo) FindDeployRun(ctx context.Context, tag string, since time.Time) (trains.Run, error) {
	unlock, err := r.enter(ctx, "FindDeployRun", tag)
	if err != nil {
		return trains.Run{}, err
	}
	defer unlock()
	run, ok := r.newestLocked(func(run trains.Run) bool {
		return run.Workflow == DeployWorkflow && run.Ref == tag && run.Event == "workflow_dispatch" && !run.Created.Before(since)
	})
	if !ok {
		return trains.Run{}, fmt.Errorf("no run of %s for tag %s since %s: %w", DeployWorkflow, tag, since.Format(time.RFC3339), trains.ErrRunNotFound)
	}
	return run, nil
}

// PendingDeployments returns none: the in-memory repository's runs never
// wait on an environment.
func (r *Repo) PendingDeployments(ctx context.Context, id int64) ([]trains.PendingDeployment, error) {
	return nil, ctx.Err()
}

// DeploymentReviews returns none: no run of the in-memory repository is
// reviewed.
func (r *Repo) DeploymentReviews(ctx context.Context, id int64) ([]trains.DeploymentReview, error) {
	return nil, ctx.Err()
}

// WaitRun returns run id at once: runs never wait on an environment here,
// so waiting changes nothing. ErrNotFound: no such run. A run still in
// progress is an error that is neither, as when GitHub's run outlasts the
// wait.
func (r *Repo) WaitRun(ctx context.Context, id int64, waiting bool) (trains.Run, error) {
	unlock, err := r.enter(ctx, "WaitRun", fmt.Sprint(id))
	if err != nil {
		return trains.Run{}, err
	}
	defer unlock()
	run, ok := r.newestLocked(func(run trains.Run) bool { return run.ID == id })
	switch {
	case !ok:
		return trains.Run{}, fmt.Errorf("no workflow run %d: %w", id, trains.ErrNotFound)
	case !run.Completed():
		return run, fmt.Errorf("run %d is still %s: see %s", id, run.Status, run.URL)
	}
	return run, nil
}

// DeployRuns lists the deploy workflow's runs created at or after since,
// oldest first.
func (r *Repo) DeployRuns(ctx context.Context, since time.Time) ([]trains.Run, error) {
	unlock, err := r.enter(ctx, "DeployRuns", "")
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []trains.Run
	for _, run := range r.runs {
		if run.Workflow == DeployWorkflow && !run.Created.Before(since) {
			out = append(out, run)
		}
	}
	return out, nil
}

var _ trains.DeployHistory = (*Repo)(nil)

// CompletedDeployRuns lists the deploy workflow's completed runs, newest
// first, at most limit.
func (r *Repo) CompletedDeployRuns(ctx context.Context, limit int) ([]trains.Run, error) {
	unlock, err := r.enter(ctx, "CompletedDeployRuns", "")
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []trains.Run
	for i := len(r.runs) - 1; i >= 0 && len(out) < limit; i-- {
		if run := r.runs[i]; run.Workflow == DeployWorkflow && run.Completed() {
			out = append(out, run)
		}
	}
	return out, nil
}

// newestLocked returns the newest run that match accepts.
func (r *Repo) newestLocked(match func(trains.Run) bool) (trains.Run, bool) {
	for i := len(r.runs) - 1; i >= 0; i-- {
		if match(r.runs[i]) {
			return r.runs[i], true
		}
	}
	return trains.Run{}, false
}
