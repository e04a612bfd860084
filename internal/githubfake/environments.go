package githubfake

import (
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the GitHub Environments review gate: a run of a workflow
// that RequireApproval names waits (status "waiting") on the environment
// until one of its required reviewers approves or rejects it — a person on
// GitHub's review page (ReviewAs, in a test) or the API token's user (POST
// pending_deployments). The shapes follow GitHub's REST documentation:
// https://docs.github.com/rest/actions/workflow-runs#get-pending-deployments-for-a-workflow-run,
// #review-pending-deployments-for-a-workflow-run and
// #get-the-review-history-for-a-workflow-run.

// APIUser is the login of the user the fake's API token belongs to: it
// reviews what POST pending_deployments reviews, and
// current_user_can_approve says whether it is one of the reviewers.
const APIUser = "octocat"

// Reviewer is a required reviewer of an environment: a user, or a team.
type Reviewer struct {
	// Login is a user's login; empty for a team.
	Login string
	// Team is a team's name (its slug is the name in lower case with
	// dashes), and Members the logins that may review as the team.
	Team    string
	Members []string
}

// User is the reviewer who is the user login.
func User(login string) Reviewer { return Reviewer{Login: login} }

// Team is the reviewer who is the team name, whose members may review.
func Team(name string, members ...string) Reviewer { return Reviewer{Team: name, Members: members} }

// slug is a team's slug.
func (r Reviewer) slug() string { return strings.ToLower(strings.ReplaceAll(r.Team, " ", "-")) }

// may reports whether login may review as r.
func (r Reviewer) may(login string) bool {
	if r.Team == "" {
		return r.Login == login
	}
	return slices.Contains(r.Members, login)
}

// reviewers returns the environment's reviewers, APIUser when none is set.
func (e *Environment) reviewers() []Reviewer {
	if len(e.Reviewers) == 0 {
		return []Reviewer{User(APIUser)}
	}
	return e.Reviewers
}

// mayReview reports whether login is one of e's reviewers or in one of
// its teams.
func (e *Environment) mayReview(login string) bool {
	for _, r := range e.reviewers() {
		if r.may(login) {
			return true
		}
	}
	return false
}

// ReviewAs approves (state "approved") or rejects ("rejected") the
// deployment run id waits on, with comment, as the user login does on
// GitHub's review page. It fails the test when the run is not waiting for
// a review or login may not review it. Approved, the run is in progress
// again; rejected, it completes with conclusion failure ("If a job is
// rejected, the workflow will fail", GitHub's "Reviewing deployments").
func (f *Fake) ReviewAs(id int64, login, state, comment string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.mustRun(id)
	switch {
	case state != "approved" && state != "rejected":
		f.t.Fatalf("githubfake: review state %q, want approved or rejected", state)
	case !r.waitsForReview():
		f.t.Fatalf("githubfake: run %d is %s, not waiting for a review", id, r.status)
	case !r.approval.mayReview(login):
		f.t.Fatalf("githubfake: %s is not a required reviewer of %s", login, r.approval.Name)
	}
	f.review(r, login, state, comment)
}

// waitsForReview reports whether the run waits for its environment's review.
func (r *run) waitsForReview() bool { return r.status == "waiting" && r.approval != nil && !r.reviewed }

// review records a review of r's pending deployment and moves r on.
func (f *Fake) review(r *run, login, state, comment string) {
	f.reviews = append(f.reviews, Review{RunID: r.id, EnvironmentIDs: []int64{r.approval.ID}, State: state, Comment: comment, User: login})
	r.reviewed = true
	if state == "approved" {
		r.status = "in_progress"
	} else {
		r.status, r.conclusion = "completed", "failure"
	}
	r.updated = f.now()
}

func (f *Fake) envJSON(e *Environment) map[string]any {
	return map[string]any{
		"id":       e.ID,
		"node_id":  "EN_" + strconv.FormatInt(e.ID, 10),
		"name":     e.Name,
		"url":      "https://api.github.com/repos/" + f.owner + "/" + f.name + "/environments/" + e.Name,
		"html_url": f.htmlURL("deployments/activity_log?environments_filter=" + e.Name),
	}
}

// idOf is a stable id for a login or a team name.
func idOf(s string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum32()%1_000_000) + 1
}

// teamJSON is GitHub's team for a team reviewer of the fake's owner.
func (f *Fake) teamJSON(r Reviewer) map[string]any {
	id := idOf("team:" + r.Team)
	api := "https://api.github.com/teams/" + strconv.FormatInt(id, 10)
	return map[string]any{
		"id":                   id,
		"node_id":              "T_" + strconv.FormatInt(id, 10),
		"url":                  api,
		"html_url":             "https://github.com/orgs/" + f.owner + "/teams/" + r.slug(),
		"name":                 r.Team,
		"slug":                 r.slug(),
		"description":          nil,
		"privacy":              "closed",
		"notification_setting": "notifications_enabled",
		"permission":           "pull",
		"members_url":          api + "/members{/member}",
		"repositories_url":     api + "/repos",
		"parent":               nil,
		"type":                 "organization",
	}
}

// getPending answers GET actions/runs/{id}/pending_deployments: the
// environment the run waits on, with its reviewers; [] when it waits on
// none.
func (f *Fake) getPending(ex *exchange, id string) {
	r := f.runByPath(ex, id)
	if r == nil {
		return
	}
	out := []map[string]any{}
	if r.waitsForReview() {
		var reviewers []map[string]any
		for _, rv := range r.approval.reviewers() {
			if rv.Team != "" {
				reviewers = append(reviewers, map[string]any{"type": "Team", "reviewer": f.teamJSON(rv)})
			} else {
				reviewers = append(reviewers, map[string]any{"type": "User", "reviewer": userJSON(rv.Login)})
			}
		}
		out = append(out, map[string]any{
			"environment":              f.envJSON(r.approval),
			"wait_timer":               0,
			"wait_timer_started_at":    nil,
			"current_user_can_approve": r.approval.mayReview(APIUser),
			"reviewers":                reviewers,
		})
	}
	writeJSON(ex, http.StatusOK, out)
}

// reviewPending answers POST actions/runs/{id}/pending_deployments: the
// API token's user (APIUser) reviews the run's pending deployment.
func (f *Fake) reviewPending(ex *exchange, id string) {
	r := f.runByPath(ex, id)
	if r == nil {
		return
	}
	var req struct {
		EnvironmentIDs []int64 `json:"environment_ids"`
		State          string  `json:"state"`
		Comment        *string `json:"comment"`
	}
	if !decode(ex, &req) {
		return
	}
	if req.State != "approved" && req.State != "rejected" || req.Comment == nil || req.EnvironmentIDs == nil {
		writeError(ex.w, http.StatusUnprocessableEntity, "Invalid request.\n\nenvironment_ids, state (approved or rejected) and comment are required")
		return
	}
	if !r.waitsForReview() || len(req.EnvironmentIDs) != 1 || req.EnvironmentIDs[0] != r.approval.ID ||
		!r.approval.mayReview(APIUser) {
		writeError(ex.w, http.StatusUnprocessableEntity, "No pending deployment requests to approve or reject")
		return
	}
	f.review(r, APIUser, req.State, *req.Comment)
	did := r.id*10 + 1
	writeJSON(ex, http.StatusOK, []map[string]any{{
		"url":                    f.apiURL(ex, "deployments/"+strconv.FormatInt(did, 10)),
		"id":                     did,
		"node_id":                "DE_" + strconv.FormatInt(did, 10),
		"sha":                    r.sha,
		"ref":                    r.branch,
		"task":                   "deploy",
		"payload":                map[string]any{},
		"original_environment":   r.approval.Name,
		"environment":            r.approval.Name,
		"description":            nil,
		"creator":                userJSON(APIUser),
		"created_at":             r.created.Format(time.RFC3339),
		"updated_at":             r.updated.Format(time.RFC3339),
		"statuses_url":           f.apiURL(ex, "deployments/"+strconv.FormatInt(did, 10)+"/statuses"),
		"repository_url":         strings.TrimSuffix(f.apiURL(ex, ""), "/"),
		"transient_environment":  false,
		"production_environment": false,
	}})
}

// getApprovals answers GET actions/runs/{id}/approvals: the run's review
// history, oldest first, each with the environments it reviewed, its
// state, its comment and its user.
func (f *Fake) getApprovals(ex *exchange, id string) {
	r := f.runByPath(ex, id)
	if r == nil {
		return
	}
	out := []map[string]any{}
	for _, rv := range f.reviews {
		if rv.RunID != r.id || r.approval == nil {
			continue
		}
		env := f.envJSON(r.approval)
		env["created_at"] = r.created.Format(time.RFC3339)
		env["updated_at"] = r.created.Format(time.RFC3339)
		out = append(out, map[string]any{
			"environments": []map[string]any{env},
			"state":        rv.State,
			"comment":      rv.Comment,
			"user":         userJSON(rv.User),
		})
	}
	writeJSON(ex, http.StatusOK, out)
}
