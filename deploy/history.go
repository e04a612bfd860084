package deploy

import (
	"context"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

var _ trains.DeployHistory = (*GitHub)(nil)

// CompletedDeployRuns lists the deploy workflow's completed runs, whatever
// their conclusion, newest first, at most limit (GitHub lists at most 1000
// runs of a query): the deploy history a rollback reads to find the tag
// deployed before the one deployed now. It asks GitHub for
// status=completed, 100 a page, and stops at limit.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
func (g *GitHub) CompletedDeployRuns(ctx context.Context, limit int) ([]trains.Run, error) {
	opts := &github.ListWorkflowRunsOptions{Status: "completed", ListOptions: github.ListOptions{PerPage: min(max(limit, 1), 100)}}
	var all []trains.Run
	for len(all) < limit {
		runs, resp, err := g.listRuns(ctx, g.cfg.DeployWorkflow, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, runs...)
		if resp.NextPage == 0 || len(runs) == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// CompletedDeployRuns passes through to the wrapped repository's, when it
// has them: a dry run reads the real deploy history.
func (d *dryRun) CompletedDeployRuns(ctx context.Context, limit int) ([]trains.Run, error) {
	h, ok := d.repo.(trains.DeployHistory)
	if !ok {
		return nil, errNoHistory
	}
	return h.CompletedDeployRuns(ctx, limit)
}

// errNoHistory: the repository a dry run wraps keeps no deploy runs (a
// local repository).
var errNoHistory = &trains.UserError{Text: trains.Text{trains.T("this trainbot works on a local repository, which keeps no deploy runs, so it cannot tell which tag to roll back to")}}
