package deploy

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// dryRun is a Repo whose writes are reported, not made.
type dryRun struct {
	repo trains.Repo
	mu   sync.Mutex
	out  io.Writer
}

// DryRun wraps repo so that nothing changes (TRAINBOT_DRY_RUN): reads
// (Tags, TagDate, Head, Commit, Branch, BranchContaining, Compare,
// Contains, DeployRuns, and WaitRun, PendingDeployments and
// DeploymentReviews of a real run) pass through; every
// write is not made but reported to out as a line "dry run: would …":
//
//   - CreateTag reports the tag it would make, after checking the
//     repository's tags: the tag already on commit is success, on
//     another commit a *trains.TagConflictError, as for real;
//   - Dispatch reports what it would send;
//   - WaitPublish and FindDeployRun return at once a synthetic completed,
//     successful run on the tag, with ID 0 (no run exists, since nothing
//     was tagged or dispatched); WaitRun(0) returns it too.
func DryRun(repo trains.Repo, out io.Writer) trains.Repo {
	if out == nil {
		out = io.Discard
	}
	return &dryRun{repo: repo, out: out}
}

var _ trains.Repo = (*dryRun)(nil)

func (d *dryRun) printf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.out, "dry run: "+format+"\n", args...)
}

func (d *dryRun) Tags(ctx context.Context) ([]trains.RepoTag, error) { return d.repo.Tags(ctx) }

func (d *dryRun) LineTags(ctx context.Context, line trains.Line) ([]trains.RepoTag, error) {
	return d.repo.LineTags(ctx, line)
}

func (d *dryRun) Log(ctx context.Context, ref string, limit int) ([]trains.Commit, bool, error) {
	return d.repo.Log(ctx, ref, limit)
}

func (d *dryRun) TagDate(ctx context.Context, name string) (time.Time, error) {
	return d.repo.TagDate(ctx, name)
}

func (d *dryRun) Head(ctx context.Context) (trains.Commit, error) { return d.repo.Head(ctx) }

func (d *dryRun) Commit(ctx context.Context, ref string) (trains.Commit, error) {
	return d.repo.Commit(ctx, ref)
}

func (d *dryRun) Branch(ctx context.Context, name string) (trains.Commit, error) {
	return d.repo.Branch(ctx, name)
}

func (d *dryRun) BranchContaining(ctx context.Context, sha string) (string, error) {
	return d.repo.BranchContaining(ctx, sha)
}

func (d *dryRun) Compare(ctx context.Context, base, head string) (trains.Comparison, error) {
	return d.repo.Compare(ctx, base, head)
}

func (d *dryRun) Contains(ctx context.Context, ancestor, descendant string) (bool, error) {
	return d.repo.Contains(ctx, ancestor, descendant)
}

func (d *dryRun) DeployRuns(ctx context.Context, since time.Time) ([]trains.Run, error) {
	return d.repo.DeployRuns(ctx, since)
}

func (d *dryRun) CreateTag(ctx context.Context, name, commit, message string) error {
	tags, err := d.repo.Tags(ctx)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if t.Name != name {
			continue
		}
		if t.Commit != commit {
			return &trains.TagConflictError{Tag: name, Existing: t.Commit, Want: commit}
		}
		d.printf("tag %s is already on %s: nothing to create", name, trains.ShortSHA(commit))
		return nil
	}
	d.printf("would create tag %s on %s (%q)", name, trains.ShortSHA(commit), message)
	return nil
}

func (d *dryRun) synthetic(tag string) trains.Run {
	return trains.Run{Ref: tag, Status: "completed", Conclusion: "success"}
}

func (d *dryRun) WaitPublish(_ context.Context, tag string) (trains.Run, error) {
	d.printf("would wait for the publish run of %s", tag)
	return d.synthetic(tag), nil
}

func (d *dryRun) Dispatch(_ context.Context, tag string, inputs map[string]string) error {
	var in []string
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		in = append(in, k+"="+inputs[k])
	}
	d.printf("would dispatch the deploy workflow ref=%s inputs %s", tag, strings.Join(in, " "))
	return nil
}

func (d *dryRun) FindDeployRun(_ context.Context, tag string, _ time.Time) (trains.Run, error) {
	return d.synthetic(tag), nil
}

func (d *dryRun) WaitRun(ctx context.Context, id int64, waiting bool) (trains.Run, error) {
	if id == 0 {
		return d.synthetic(""), nil
	}
	return d.repo.WaitRun(ctx, id, waiting)
}

func (d *dryRun) PendingDeployments(ctx context.Context, id int64) ([]trains.PendingDeployment, error) {
	if id == 0 {
		return nil, nil
	}
	return d.repo.PendingDeployments(ctx, id)
}

func (d *dryRun) DeploymentReviews(ctx context.Context, id int64) ([]trains.DeploymentReview, error) {
	if id == 0 {
		return nil, nil
	}
	return d.repo.DeploymentReviews(ctx, id)
}
