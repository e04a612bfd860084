package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// toRun converts a workflow run. Who triggered it is the triggering
// actor (who started this attempt: a re-run's is not the first run's),
// else the actor.
func toRun(file string, r *github.WorkflowRun) trains.Run {
	actor := r.GetTriggeringActor().GetLogin()
	if actor == "" {
		actor = r.GetActor().GetLogin()
	}
	return trains.Run{
		ID:         r.GetID(),
		Workflow:   file,
		Ref:        r.GetHeadBranch(),
		SHA:        r.GetHeadSHA(),
		Event:      r.GetEvent(),
		Status:     r.GetStatus(),
		Conclusion: r.GetConclusion(),
		Created:    r.GetCreatedAt().Time,
		URL:        r.GetHTMLURL(),
		Message:    r.GetHeadCommit().GetMessage(),
		Actor:      actor,
	}
}

// poll calls check until it says done, waiting between calls from PollMin
// doubling up to PollMax, for at most bound on the clock. It reports
// whether check said done; check's error ends it.
func (g *GitHub) poll(ctx context.Context, bound time.Duration, check func(context.Context) (bool, error)) (bool, error) {
	start := g.o.clock.Now()
	interval := g.cfg.PollMin
	for {
		done, err := check(ctx)
		if err != nil || done {
			return done, err
		}
		left := bound - g.o.clock.Now().Sub(start)
		if left <= 0 {
			return false, nil
		}
		if err := g.o.sleeper(ctx, min(interval, left)); err != nil {
			return false, err
		}
		interval = min(interval*2, g.cfg.PollMax)
	}
}

// listRuns lists the newest runs of a workflow that opts selects (one
// page: GitHub lists newest first).
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
func (g *GitHub) listRuns(ctx context.Context, file string, opts *github.ListWorkflowRunsOptions) ([]trains.Run, *github.Response, error) {
	cctx, cancel := g.call(ctx)
	defer cancel()
	list, resp, err := g.c.Actions.ListWorkflowRunsByFileName(cctx, g.owner, g.name, escapePath(file), opts)
	if err != nil {
		what := "workflow " + file
		if status(err) == http.StatusNotFound {
			return nil, resp, g.explain("list the runs of "+what+" (is the file name right, in .github/workflows of "+g.repo()+"?)", readActions, err)
		}
		return nil, resp, g.explain("list the runs of "+what, readActions, err)
	}
	runs := make([]trains.Run, 0, len(list.WorkflowRuns))
	for _, r := range list.WorkflowRuns {
		runs = append(runs, toRun(file, r))
	}
	return runs, resp, nil
}

// createdSince is GitHub's created filter for runs made at or after t,
// widened by the clock skew allowance and cut to the second.
func (g *GitHub) createdSince(t time.Time) string {
	return ">=" + t.Add(-g.cfg.ClockSkew).UTC().Truncate(time.Second).Format(time.RFC3339)
}

// WaitPublish waits until the publish workflow's newest run on tag (any
// event: the tag push, or a re-run) completes, and returns it whatever
// its conclusion: the caller must check Run.Succeeded before deploying.
// It polls one run list (conditional requests, so unchanged polls cost
// nothing), for at most Config.RunAppear until the run appears —
// ErrRunNotFound after — and Config.PublishTimeout in all.
//
// With no publish workflow configured there is nothing to wait for: it
// returns at once a synthetic completed, successful Run with ID 0 and Ref
// tag, and makes no request.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
func (g *GitHub) WaitPublish(ctx context.Context, tag string) (trains.Run, error) {
	file := g.cfg.PublishWorkflow
	if file == "" {
		return trains.Run{Ref: tag, Status: "completed", Conclusion: "success", Created: g.o.clock.Now()}, nil
	}
	opts := &github.ListWorkflowRunsOptions{Branch: tag, ListOptions: github.ListOptions{PerPage: 5}}
	start := g.o.clock.Now()
	var run trains.Run
	seen := false
	done, err := g.poll(ctx, g.cfg.PublishTimeout, func(ctx context.Context) (bool, error) {
		runs, _, err := g.listRuns(ctx, file, opts)
		if err != nil {
			return false, err
		}
		if len(runs) == 0 {
			if g.o.clock.Now().Sub(start) >= g.cfg.RunAppear {
				return false, errNoRun
			}
			return false, nil
		}
		if !seen {
			g.log.InfoContext(ctx, "publish run found", slog.String("tag", tag), slog.Int64("run", runs[0].ID), slog.String("url", runs[0].URL))
		}
		run, seen = runs[0], true
		return run.Completed(), nil
	})
	switch {
	case errors.Is(err, errNoRun) || err == nil && !seen:
		return trains.Run{}, fmt.Errorf("the publish workflow %s started no run for tag %s within %s: check that it runs on tag pushes (on: push: tags) and is enabled in %s: %w",
			file, tag, g.cfg.RunAppear, g.repo(), trains.ErrRunNotFound)
	case err != nil:
		return run, fmt.Errorf("wait for the publish run of %s: %w", tag, err)
	case !done:
		return run, fmt.Errorf("the publish run of %s is still %s after %s: see %s", tag, run.Status, g.cfg.PublishTimeout, run.URL)
	}
	return run, nil
}

// errNoRun ends a poll when no run appeared in time.
var errNoRun = errors.New("no run appeared")

// Dispatch runs the deploy workflow with ref = tag and inputs.
//
// A 422 (an input the workflow does not declare, a ref that does not
// exist, a workflow without a workflow_dispatch trigger) is told plainly
// and never tried again. A 5xx or a timeout is ambiguous: GitHub may have
// started the run. Before dispatching again, Dispatch looks for a run of
// the deploy workflow on tag created since this call began (for up to
// Config.RunAppear); if one appears, the dispatch was made and it returns
// nil. It dispatches at most three times. (A run that takes longer than
// RunAppear to appear after a 5xx would be dispatched twice: GitHub gives
// no run id to check instead.)
//
// GitHub API docs: https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event
func (g *GitHub) Dispatch(ctx context.Context, tag string, inputs map[string]string) error {
	file := g.cfg.DeployWorkflow
	op := fmt.Sprintf("dispatch %s on %s", file, tag)
	in := make(map[string]interface{}, len(inputs))
	for k, v := range inputs {
		in[k] = v
	}
	since := g.o.clock.Now()
	var last error
	for attempt := range writeAttempts {
		if err := g.pauseBefore(ctx, attempt, op); err != nil {
			return err
		}
		cctx, cancel := g.call(ctx)
		_, err := g.c.Actions.CreateWorkflowDispatchEventByFileName(cctx, g.owner, g.name, escapePath(file),
			github.CreateWorkflowDispatchEventRequest{Ref: tag, Inputs: in})
		cancel()
		if err == nil {
			g.log.InfoContext(ctx, "deploy dispatched", slog.String("tag", tag), slog.String("workflow", file))
			return nil
		}
		if ctx.Err() != nil {
			return g.explain(op, writeActions, err)
		}
		if status(err) == http.StatusUnprocessableEntity {
			return dispatch422(op, file, tag, g.repo(), err)
		}
		if !ambiguous(err) {
			return g.explain(op, writeActions, err)
		}
		g.log.WarnContext(ctx, "deploy dispatch answered with an error; looking for its run before trying again",
			slog.String("tag", tag), slog.Any("error", err))
		run, ferr := g.FindDeployRun(ctx, tag, since)
		if ferr == nil {
			g.log.WarnContext(ctx, "the deploy dispatch was made despite the error", slog.String("tag", tag), slog.Int64("run", run.ID))
			return nil
		}
		if !errors.Is(ferr, trains.ErrRunNotFound) {
			return fmt.Errorf("%s: GitHub answered with an error (%v), and checking whether the run started failed too: %w", op, err, ferr)
		}
		last = err
	}
	return g.explain(op+fmt.Sprintf(" (tried %d times; no run appeared)", writeAttempts), writeActions, last)
}

// dispatch422 tells GitHub's dispatch refusals plainly. GitHub's messages
// have no type, so they are matched as text.
func dispatch422(op, file, tag, repo string, err error) error {
	msg := message(err)
	var why string
	switch {
	case strings.HasPrefix(msg, "Unexpected inputs provided"):
		why = fmt.Sprintf("%s does not declare these inputs (%s); add them under on: workflow_dispatch: inputs in the workflow, or fix the inputs trainbot sends",
			file, strings.TrimSpace(strings.TrimPrefix(msg, "Unexpected inputs provided:")))
	case strings.HasPrefix(msg, "No ref found"):
		why = fmt.Sprintf("%s has no tag or branch %s; was the tag made?", repo, tag)
	case strings.Contains(msg, "workflow_dispatch"):
		why = fmt.Sprintf("%s has no workflow_dispatch trigger; add `on: workflow_dispatch` to it", file)
	default:
		why = msg
	}
	return &apiError{msg: fmt.Sprintf("GitHub refused to %s: %s (not retried)", op, why), errs: []error{err, trains.ErrRefused}}
}

// FindDeployRun waits for the deploy workflow's run on tag dispatched at
// or after since (a dispatch returns no run id): it lists runs with
// event=workflow_dispatch, branch=tag and created>=since (less
// Config.ClockSkew), newest first, and returns the newest. It polls for
// at most Config.RunAppear, then returns an error wrapping
// trains.ErrRunNotFound.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
func (g *GitHub) FindDeployRun(ctx context.Context, tag string, since time.Time) (trains.Run, error) {
	file := g.cfg.DeployWorkflow
	opts := &github.ListWorkflowRunsOptions{
		Branch:      tag,
		Event:       "workflow_dispatch",
		Created:     g.createdSince(since),
		ListOptions: github.ListOptions{PerPage: 5},
	}
	var run trains.Run
	found, err := g.poll(ctx, g.cfg.RunAppear, func(ctx context.Context) (bool, error) {
		runs, _, err := g.listRuns(ctx, file, opts)
		if err != nil || len(runs) == 0 {
			return false, err
		}
		run = runs[0]
		return true, nil
	})
	if err != nil {
		return trains.Run{}, fmt.Errorf("find the deploy run of %s: %w", tag, err)
	}
	if !found {
		return trains.Run{}, fmt.Errorf("no run of %s for tag %s dispatched since %s appeared within %s: check the Actions tab of %s (is the workflow disabled, or did the dispatch fail?): %w",
			file, tag, since.UTC().Format(time.RFC3339), g.cfg.RunAppear, g.repo(), trains.ErrRunNotFound)
	}
	return run, nil
}

// WaitRun follows a run until it completes, or until whether its status
// is "waiting" (a deployment review: a job references a GitHub
// Environment whose required reviewers have not reviewed it) differs from
// waiting, and returns it. It polls the run with conditional requests for
// at most Config.RunTimeout, or, with waiting true, for as long as GitHub
// lets a run wait for a review (30 days, then it fails the run): a run
// waiting for a review stays waiting until one of the environment's
// reviewers reviews it on GitHub; trainbot never does. ErrNotFound: no
// such run.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run
func (g *GitHub) WaitRun(ctx context.Context, id int64, waiting bool) (trains.Run, error) {
	var run trains.Run
	prev := ""
	bound := g.cfg.RunTimeout
	if waiting {
		bound = max(bound, reviewTimeout)
	}
	done, err := g.poll(ctx, bound, func(ctx context.Context) (bool, error) {
		cctx, cancel := g.call(ctx)
		r, _, err := g.c.Actions.GetWorkflowRunByID(cctx, g.owner, g.name, id)
		cancel()
		if err != nil {
			return false, g.explain("read workflow run "+itoa(id), readActions, err)
		}
		run = toRun(r.GetName(), r)
		if run.Status != prev {
			g.log.InfoContext(ctx, "workflow run", slog.Int64("run", id), slog.String("status", run.Status), slog.String("url", run.URL))
			prev = run.Status
		}
		return run.Completed() || run.Waiting() != waiting, nil
	})
	if err != nil {
		return run, fmt.Errorf("follow run %d: %w", id, err)
	}
	if !done {
		return run, fmt.Errorf("run %d is still %s after %s: see %s", id, run.Status, bound, run.URL)
	}
	return run, nil
}

// reviewTimeout is how long GitHub lets a job wait for a deployment
// review before it fails it ("If a job is not approved within 30 days, it
// will automatically fail"), and a day more.
const reviewTimeout = 31 * 24 * time.Hour

// DeployRuns lists the deploy workflow's runs created at or after since,
// oldest first, every page (GitHub stops at 1000).
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
func (g *GitHub) DeployRuns(ctx context.Context, since time.Time) ([]trains.Run, error) {
	opts := &github.ListWorkflowRunsOptions{
		Created:     ">=" + since.UTC().Truncate(time.Second).Format(time.RFC3339),
		ListOptions: github.ListOptions{PerPage: 100},
	}
	var all []trains.Run
	for page := 0; page < 10; page++ {
		runs, resp, err := g.listRuns(ctx, g.cfg.DeployWorkflow, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, runs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	out := make([]trains.Run, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		if !all[i].Created.Before(since.Truncate(time.Second)) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// pendingDeployment is one environment a run waits on (go-github v62 has
// no method to read them).
type pendingDeployment struct {
	Environment struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"environment"`
	CurrentUserCanApprove bool `json:"current_user_can_approve"`
	Reviewers             []struct {
		Type     string `json:"type"` // User or Team
		Reviewer struct {
			Login string `json:"login"`
			Name  string `json:"name"`
		} `json:"reviewer"`
	} `json:"reviewers"`
}

// ReviewDeployment approves or rejects, with comment, every deployment the
// run waits on that the token's user may review. It reads them first;
// a run with none waiting, or none this user may review, is an error that
// says so.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#get-pending-deployments-for-a-workflow-run
// and https://docs.github.com/rest/actions/workflow-runs#review-pending-deployments-for-a-workflow-run
func (g *GitHub) ReviewDeployment(ctx context.Context, runID int64, approve bool, comment string) error {
	verb, state := "approve", "approved"
	if !approve {
		verb, state = "reject", "rejected"
	}
	op := fmt.Sprintf("%s the deployments of run %d", verb, runID)
	cctx, cancel := g.call(ctx)
	defer cancel()
	req, err := g.c.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/actions/runs/%d/pending_deployments", g.owner, g.name, runID), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var pending []pendingDeployment
	if _, err := g.c.Do(cctx, req, &pending); err != nil {
		return g.explain("read the pending deployments of run "+itoa(runID), readActions, err)
	}
	var ids []int64
	var names, others []string
	for _, p := range pending {
		if p.CurrentUserCanApprove {
			ids = append(ids, p.Environment.ID)
			names = append(names, p.Environment.Name)
		} else {
			others = append(others, p.Environment.Name)
		}
	}
	switch {
	case len(pending) == 0:
		return fmt.Errorf("could not %s: the run waits for no deployment review: %w", op, trains.ErrRefused)
	case len(ids) == 0:
		return fmt.Errorf("could not %s: the token's user is not a required reviewer of %s: %w", op, strings.Join(others, ", "), trains.ErrRefused)
	}
	cctx2, cancel2 := g.call(ctx)
	defer cancel2()
	_, _, err = g.c.Actions.PendingDeployments(cctx2, g.owner, g.name, runID, &github.PendingDeploymentsRequest{
		EnvironmentIDs: ids, State: state, Comment: comment,
	})
	if err != nil {
		return g.explain(op+" ("+strings.Join(names, ", ")+")", reviewDeploys, err)
	}
	g.log.InfoContext(ctx, "deployment reviewed", slog.Int64("run", runID), slog.String("state", state), slog.String("environments", strings.Join(names, ",")))
	return nil
}
