package trainstest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// The names the in-memory Repo gives its workflows, as trainstack
// configures the GitHub Repo.
const (
	PublishWorkflow = "publish-images.yaml"
	DeployWorkflow  = "deploy-simple.yaml"
)

// MaxCompare is how many commits Compare lists at most, as GitHub.
const MaxCompare = 250

// RunNever, given to SetPublish or SetDeploy, makes the workflow start no
// run: WaitPublish and FindDeployRun then return trains.ErrRunNotFound.
const RunNever = "never"

// repoURL is the base of the URLs the in-memory Repo gives.
const repoURL = "https://github.example/acme/chain"

// Repo is an in-memory trains.Repo: commits on branches (a DAG), tags
// (annotated with a date, or lightweight), and the runs of the publish
// workflow (one per tag CreateTag makes) and of the deploy workflow (one
// per Dispatch). Runs end at once, with success unless SetPublish or
// SetDeploy says otherwise, so nothing waits: WaitPublish, FindDeployRun
// and WaitRun answer from what is recorded. Dates come from the clock.
// FailNext makes a method's next call fail. It is safe for concurrent use.
type Repo struct {
	clock   trains.Clock
	release string

	mu         sync.Mutex
	seq        int
	commits    map[string]*memCommit
	branches   map[string]string
	tags       map[string]memTag
	runs       []trains.Run
	nextRun    int64
	dispatches []Dispatch
	publish    string // conclusion of the publish runs CreateTag starts
	deploy     string // conclusion of the deploy runs Dispatch starts
	failures   map[string][]error
	calls      []string
}

var _ trains.Repo = (*Repo)(nil)

type memCommit struct {
	trains.Commit
	parents []string
	seq     int // a commit's seq is above its parents': seq order is topological
}

type memTag struct {
	commit    string
	annotated bool
	date      time.Time // an annotated tag's; zero for a lightweight one
}

// Dispatch is one dispatch of the deploy workflow the Repo accepted.
type Dispatch struct {
	Ref    string
	Inputs map[string]string
	At     time.Time
}

// NewRepo returns a repository whose release branch, main, holds one
// root commit, dated by clock.
func NewRepo(clock trains.Clock) *Repo {
	r := &Repo{clock: clock, release: "main", commits: map[string]*memCommit{}, branches: map[string]string{},
		tags: map[string]memTag{}, nextRun: 9000, publish: "success", deploy: "success", failures: map[string][]error{}}
	r.AddCommit("main", "initial commit", time.Time{})
	return r
}

// --- what a test sets up ---

// AddCommit adds a commit on top of branch, creating the branch (with a
// root commit) when it does not exist, and returns its sha. A zero date
// is the clock's now.
func (r *Repo) AddCommit(branch, message string, date time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parents []string
	if head, ok := r.branches[branch]; ok {
		parents = []string{head}
	}
	sha := r.addLocked(parents, message, "octocat", date)
	r.branches[branch] = sha
	return sha
}

// AddCommits adds n commits to branch, an hour apart ending now, and
// returns their shas, oldest first.
func (r *Repo) AddCommits(branch string, n int) []string {
	now := r.clock.Now()
	shas := make([]string, n)
	for i := range n {
		shas[i] = r.AddCommit(branch, fmt.Sprintf("change %d", i+1), now.Add(time.Duration(i-n+1)*time.Hour))
	}
	return shas
}

// AddForkCommit adds a commit on top of parent that no branch holds (as a
// commit of a fork): Commit finds it, BranchContaining does not until
// AddBranch puts it on a branch.
func (r *Repo) AddForkCommit(parent, message string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustCommitLocked(parent)
	return r.addLocked([]string{parent}, message, "forker", time.Time{})
}

// AddBranch points branch at sha, making or moving it.
func (r *Repo) AddBranch(branch, sha string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustCommitLocked(sha)
	r.branches[branch] = sha
}

// HeadOf returns the sha branch points at, "" when there is no such branch.
func (r *Repo) HeadOf(branch string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.branches[branch]
}

// AddTag makes a lightweight tag: its date is its commit's. It starts no
// publish run (only CreateTag does).
func (r *Repo) AddTag(name, sha string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustCommitLocked(sha)
	r.tags[name] = memTag{commit: sha}
}

// AddAnnotatedTag makes an annotated tag made at date (zero: now). It
// starts no publish run.
func (r *Repo) AddAnnotatedTag(name, sha string, date time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mustCommitLocked(sha)
	if date.IsZero() {
		date = r.clock.Now()
	}
	r.tags[name] = memTag{commit: sha, annotated: true, date: date.UTC()}
}

// SetPublish sets how the publish runs of the tags CreateTag makes from
// now on end: "success" (the default), "failure", … or RunNever.
func (r *Repo) SetPublish(conclusion string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publish = conclusion
}

// SetDeploy sets how the deploy runs of later dispatches end: "success"
// (the default), "failure", … or RunNever.
func (r *Repo) SetDeploy(conclusion string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deploy = conclusion
}

// StartRun records a run of workflow (PublishWorkflow or DeployWorkflow)
// on ref, made now by event ("push", "workflow_dispatch", …), in progress
// until CompleteRun; it returns its id. It is how a test shows a run
// trainbot did not start.
func (r *Repo) StartRun(workflow, ref, sha, event string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.startLocked(workflow, ref, sha, event, "").ID
}

// CompleteRun ends run id with conclusion.
func (r *Repo) CompleteRun(id int64, conclusion string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.runs {
		if r.runs[i].ID == id {
			r.runs[i].Status, r.runs[i].Conclusion = "completed", conclusion
			return
		}
	}
	panic(fmt.Sprintf("trainstest: no run %d", id))
}

// FailNext makes the next call of method (e.g. "CreateTag") return err,
// once; several calls queue errors in order.
func (r *Repo) FailNext(method string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures[method] = append(r.failures[method], err)
}

// --- what a test reads back ---

// AllTags returns every tag, by name, those not named v… too (Tags
// leaves those out), without recording a call.
func (r *Repo) AllTags() []trains.RepoTag {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tagsLocked("")
}

// Tag returns the commit tag name is on, "" when there is no such tag.
func (r *Repo) Tag(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tags[name].commit
}

// Dispatches returns the dispatches of the deploy workflow, in order.
func (r *Repo) Dispatches() []Dispatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.dispatches)
}

// Runs returns every run of workflow, oldest first.
func (r *Repo) Runs(workflow string) []trains.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []trains.Run
	for _, run := range r.runs {
		if run.Workflow == workflow {
			out = append(out, run)
		}
	}
	return out
}

// Calls returns the port's calls since the last ResetCalls, in order, as
// "Method arg" (e.g. "LineTags 0.5.0", "Tags", "Commit abc1234…").
func (r *Repo) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// ResetCalls forgets the calls recorded.
func (r *Repo) ResetCalls() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// --- inside ---

// addLocked adds a commit with parents and returns its sha.
func (r *Repo) addLocked(parents []string, message, author string, date time.Time) string {
	if date.IsZero() {
		date = r.clock.Now()
	}
	r.seq++
	h := sha1.Sum(fmt.Appendf(nil, "%d\x00%s\x00%s", r.seq, strings.Join(parents, ","), message))
	sha := hex.EncodeToString(h[:])
	r.commits[sha] = &memCommit{Commit: trains.Commit{SHA: sha, Message: message, Author: author, Date: date.UTC(),
		URL: repoURL + "/commit/" + sha}, parents: parents, seq: r.seq}
	return sha
}

func (r *Repo) mustCommitLocked(sha string) {
	if _, ok := r.commits[sha]; !ok {
		panic("trainstest: no commit " + sha)
	}
}

// enter records a call of method and returns the error queued for it, or
// ctx's, and holds the lock until the returned func is called.
func (r *Repo) enter(ctx context.Context, method, arg string) (unlock func(), err error) {
	r.mu.Lock()
	r.calls = append(r.calls, strings.TrimSpace(method+" "+arg))
	if err := ctx.Err(); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	if q := r.failures[method]; len(q) > 0 {
		r.failures[method] = q[1:]
		r.mu.Unlock()
		return nil, q[0]
	}
	return r.mu.Unlock, nil
}

// resolveLocked finds the commit ref names: a sha, a unique sha prefix
// of 7 or more, a branch, a tag, heads/<b>, tags/<t> or refs/….
func (r *Repo) resolveLocked(ref string) (string, error) {
	ref = strings.TrimPrefix(ref, "refs/")
	if b, ok := strings.CutPrefix(ref, "heads/"); ok {
		if sha, ok := r.branches[b]; ok {
			return sha, nil
		}
	} else if t, ok := strings.CutPrefix(ref, "tags/"); ok {
		if tg, ok := r.tags[t]; ok {
			return tg.commit, nil
		}
	} else if sha, ok := r.branches[ref]; ok {
		return sha, nil
	} else if tg, ok := r.tags[ref]; ok {
		return tg.commit, nil
	} else if _, ok := r.commits[ref]; ok {
		return ref, nil
	} else if len(ref) >= 7 {
		found := ""
		for sha := range r.commits {
			if strings.HasPrefix(sha, ref) {
				if found != "" {
					return "", fmt.Errorf("%s names more than one commit: %w", ref, trains.ErrNotFound)
				}
				found = sha
			}
		}
		if found != "" {
			return found, nil
		}
	}
	return "", fmt.Errorf("no commit %s in acme/chain: %w", ref, trains.ErrNotFound)
}

// ancestorsLocked returns the commits reachable from sha, itself included.
func (r *Repo) ancestorsLocked(sha string) map[string]bool {
	seen := map[string]bool{}
	todo := []string{sha}
	for len(todo) > 0 {
		c := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		todo = append(todo, r.commits[c].parents...)
	}
	return seen
}

// tagsLocked lists the tags whose names begin with prefix, by name.
func (r *Repo) tagsLocked(prefix string) []trains.RepoTag {
	var out []trains.RepoTag
	for name, tg := range r.tags {
		if strings.HasPrefix(name, prefix) {
			out = append(out, trains.RepoTag{Name: name, Commit: tg.commit, Date: tg.date})
		}
	}
	slices.SortFunc(out, func(a, b trains.RepoTag) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// startLocked records a run, completed with conclusion unless it is "".
func (r *Repo) startLocked(workflow, ref, sha, event, conclusion string) trains.Run {
	r.nextRun++
	run := trains.Run{ID: r.nextRun, Workflow: workflow, Ref: ref, SHA: sha, Event: event, Status: "in_progress",
		Created: r.clock.Now(), URL: fmt.Sprintf("%s/actions/runs/%d", repoURL, r.nextRun)}
	if conclusion != "" {
		run.Status, run.Conclusion = "completed", conclusion
	}
	r.runs = append(r.runs, run)
	return run
}
