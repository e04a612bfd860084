package deploy

import (
	"context"
	"fmt"
	"net/http"

	"github.com/trainbot/trainbot/trains"
)

// This file reads a run's GitHub Environment review gate: what it waits
// on, and who reviewed it. go-github v62 has no method for either read,
// so both go through the client's NewRequest and Do (its retries, rate
// limits and conditional requests included). Reading needs actions:read.

// PendingDeployments returns the environments run id waits on for a
// review, with the logins of the users and the names of the teams that
// may review each; none when it waits on none.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#get-pending-deployments-for-a-workflow-run
func (g *GitHub) PendingDeployments(ctx context.Context, id int64) ([]trains.PendingDeployment, error) {
	var pending []pendingDeployment
	if err := g.getJSON(ctx, fmt.Sprintf("actions/runs/%d/pending_deployments", id), &pending); err != nil {
		return nil, g.explain("read the pending deployments of run "+itoa(id), readActions, err)
	}
	out := make([]trains.PendingDeployment, 0, len(pending))
	for _, p := range pending {
		d := trains.PendingDeployment{Environment: p.Environment.Name}
		for _, r := range p.Reviewers {
			switch {
			case r.Type == "Team" && r.Reviewer.Name != "":
				d.Teams = append(d.Teams, r.Reviewer.Name)
			case r.Reviewer.Login != "":
				d.Users = append(d.Users, r.Reviewer.Login)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// environmentApproval is one entry of a run's review history.
type environmentApproval struct {
	Environments []struct {
		Name string `json:"name"`
	} `json:"environments"`
	State   string `json:"state"`
	Comment string `json:"comment"`
	User    struct {
		Login string `json:"login"`
	} `json:"user"`
}

// DeploymentReviews returns the reviews of run id's deployments made so
// far (approved or rejected, with the reviewer's login and comment), in
// the order GitHub lists them.
//
// GitHub API docs: https://docs.github.com/rest/actions/workflow-runs#get-the-review-history-for-a-workflow-run
func (g *GitHub) DeploymentReviews(ctx context.Context, id int64) ([]trains.DeploymentReview, error) {
	var history []environmentApproval
	if err := g.getJSON(ctx, fmt.Sprintf("actions/runs/%d/approvals", id), &history); err != nil {
		return nil, g.explain("read the review history of run "+itoa(id), readActions, err)
	}
	out := make([]trains.DeploymentReview, 0, len(history))
	for _, h := range history {
		r := trains.DeploymentReview{State: h.State, User: h.User.Login, Comment: h.Comment}
		for _, e := range h.Environments {
			r.Environments = append(r.Environments, e.Name)
		}
		out = append(out, r)
	}
	return out, nil
}

// getJSON reads repos/{owner}/{repo}/<path> into out.
func (g *GitHub) getJSON(ctx context.Context, path string, out any) error {
	cctx, cancel := g.call(ctx)
	defer cancel()
	req, err := g.c.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/%s", g.owner, g.name, path), nil)
	if err != nil {
		return err
	}
	_, err = g.c.Do(cctx, req, out)
	return err
}
