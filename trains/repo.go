package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Commit is a commit as the repository reports it.
type Commit struct {
	SHA     string    `json:"sha"`
	Message string    `json:"message,omitempty"`
	Author  string    `json:"author,omitempty"`
	Date    time.Time `json:"date,omitzero"`
	URL     string    `json:"url,omitempty"`
}

// Title is the first line of the commit message.
func (c Commit) Title() string {
	for i, r := range c.Message {
		if r == '\n' {
			return c.Message[:i]
		}
	}
	return c.Message
}

// Comparison is what lies between two refs.
type Comparison struct {
	// Commits are those reachable from head and not from base, oldest
	// first: all of them, or the newest when there are more than the
	// repository lists at once (GitHub: 250). Total counts them all.
	Commits []Commit
	Total   int
	// Behind counts the commits reachable from base and not from head
	// (GitHub's behind_by): zero when head builds on base.
	Behind int
	// URL is the compare view a person can open, empty when there is none.
	URL string
}

// Run is one workflow run.
type Run struct {
	ID         int64     `json:"id"`
	Workflow   string    `json:"workflow,omitempty"`
	Ref        string    `json:"ref"` // head_branch: the tag for tag pushes and dispatches
	SHA        string    `json:"sha,omitempty"`
	Event      string    `json:"event,omitempty"`
	Status     string    `json:"status"`               // queued, in_progress, waiting, requested, pending, completed
	Conclusion string    `json:"conclusion,omitempty"` // success, failure, cancelled, … once completed
	Created    time.Time `json:"created"`
	URL        string    `json:"url,omitempty"`
	// Message is the head commit's message, as its author wrote it: text
	// to escape, never markup. Empty when the repository did not say.
	Message string `json:"message,omitempty"`
	// Actor is who triggered the run (the login of the person or app that
	// pushed, dispatched or re-ran it); empty when not known.
	Actor string `json:"actor,omitempty"`
}

// Title is the first line of the head commit's message.
func (r Run) Title() string { return Commit{Message: r.Message}.Title() }

// Completed reports whether the run has finished.
func (r Run) Completed() bool { return r.Status == "completed" }

// Waiting reports whether the run waits for a deployment review: a job
// of it references a GitHub Environment whose required reviewers have not
// yet approved or rejected it.
func (r Run) Waiting() bool { return r.Status == "waiting" }

// Succeeded reports whether the run finished with success.
func (r Run) Succeeded() bool { return r.Completed() && r.Conclusion == "success" }

// ErrRunNotFound is returned when a workflow run that should exist did not
// appear in time.
var ErrRunNotFound = errors.New("workflow run not found")

// TagConflictError is returned when a tag exists on another commit than the
// one a train wanted to tag.
type TagConflictError struct {
	Tag            string
	Existing, Want string
}

// Error says which commits the tag is on and what to check.
func (e *TagConflictError) Error() string {
	return fmt.Sprintf("tag %s already exists on %s, not on %s: someone made it by hand or another trainbot did; check the repository's tags before cutting again",
		e.Tag, ShortSHA(e.Existing), ShortSHA(e.Want))
}

// Repo is the released repository and its workflows: GitHub in production,
// a local git repository in the console. Errors name what failed and what
// to check.
type Repo interface {
	Ancestry

	// Tags lists the train tags (names ParseTag accepts; other tags may
	// be listed too, and are ignored), with the commit each points at
	// (peeled) and its date where known without more requests.
	Tags(ctx context.Context) ([]RepoTag, error)
	// LineTags lists the train tags of line: the tags whose names begin
	// with v<line>- (others may be listed too, and are ignored), as Tags
	// gives them. It costs the same however many tags other lines have.
	LineTags(ctx context.Context, line Line) ([]RepoTag, error)
	// TagDate returns when a tag was made: an annotated tag's tagger date,
	// else its commit's committer date. ErrNotFound: no such tag.
	TagDate(ctx context.Context, name string) (time.Time, error)
	// Head returns the commit at the head of the release branch.
	Head(ctx context.Context) (Commit, error)
	// Commit resolves a sha, branch or tag. ErrNotFound: no such commit.
	Commit(ctx context.Context, ref string) (Commit, error)
	// Branch returns the commit at the head of branch name of the
	// released repository. ErrNotFound: no such branch.
	Branch(ctx context.Context, name string) (Commit, error)
	// BranchContaining returns the name of a branch of the released
	// repository whose history contains commit sha, trying the release
	// branch first. ErrNotFound: no branch contains it (e.g. a commit of a
	// fork, which GitHub's commit lookup still answers). ErrRefused: the
	// repository has too many branches to look through; name the branch.
	BranchContaining(ctx context.Context, sha string) (string, error)
	// Compare returns the commits in head that are not in base.
	Compare(ctx context.Context, base, head string) (Comparison, error)
	// Log returns the commits reachable from ref, newest first, at most
	// limit (1 to 100), and whether older ones exist. ErrNotFound: no
	// such commit.
	Log(ctx context.Context, ref string, limit int) (commits []Commit, more bool, err error)

	// CreateTag makes tag name on commit. A tag of that name already on
	// commit is success; on another commit it is a *TagConflictError.
	CreateTag(ctx context.Context, name, commit, message string) error

	// WaitPublish waits until the publish workflow's run on tag completes
	// and returns it; ErrRunNotFound when none appears in time.
	WaitPublish(ctx context.Context, tag string) (Run, error)
	// Dispatch runs the deploy workflow with ref = tag and inputs.
	Dispatch(ctx context.Context, tag string, inputs map[string]string) error
	// FindDeployRun waits for the deploy run on tag created at or after
	// since (a dispatch returns no run id) and returns it; ErrRunNotFound
	// when none appears in time.
	FindDeployRun(ctx context.Context, tag string, since time.Time) (Run, error)
	// WaitRun follows a run until it completes, or until whether it waits
	// for a deployment review (Run.Waiting) differs from waiting, and
	// returns it. With waiting false it returns a run that starts to wait
	// for a review, so that the caller may say so; with waiting true, a
	// run that no longer waits (reviewed, or ended). A repository whose
	// runs never wait returns the completed run.
	WaitRun(ctx context.Context, id int64, waiting bool) (Run, error)
	// PendingDeployments returns the environments run id waits on for a
	// review, with who may review each; none when it waits on none.
	PendingDeployments(ctx context.Context, id int64) ([]PendingDeployment, error)
	// DeploymentReviews returns the reviews of run id's deployments made
	// so far, oldest first.
	DeploymentReviews(ctx context.Context, id int64) ([]DeploymentReview, error)
	// DeployRuns lists the deploy workflow's runs created at or after since.
	DeployRuns(ctx context.Context, since time.Time) ([]Run, error)
}

// ErrRefused is wrapped by Repo errors that retrying will not change: the
// repository refused the request (a bad input, a missing permission, a
// workflow without a dispatch trigger). Other errors may pass with time.
var ErrRefused = errors.New("refused by the repository")
