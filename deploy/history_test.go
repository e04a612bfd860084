package deploy

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

// CompletedDeployRuns lists the deploy workflow's completed runs, newest
// first, whatever their conclusion, page after page up to the limit; runs
// still going and other workflows' are left out.
func TestCompletedDeployRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	head := e.fake.Head("main")
	var want []int64
	for i := range 150 {
		id := e.fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "v0.1.0-dev.1", SHA: head, Event: "workflow_dispatch"})
		conclusion := "success"
		if i%3 == 0 {
			conclusion = "failure"
		}
		e.fake.CompleteRun(id, conclusion)
		want = append([]int64{id}, want...)
	}
	e.fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "v0.1.0-dev.2", SHA: head, Event: "workflow_dispatch"}) // in progress
	e.fake.CompleteRun(e.fake.StartRunAs(githubfake.RunSpec{Workflow: "publish-images.yaml", Branch: "v0.1.0-dev.2", SHA: head, Event: "push"}), "success")
	e.fake.ResetRequests()

	for _, tc := range []struct{ limit, runs, requests int }{{500, 150, 2}, {120, 120, 2}, {20, 20, 1}} {
		runs, err := e.gh.CompletedDeployRuns(t.Context(), tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != tc.runs {
			t.Fatalf("limit %d: %d runs, want %d", tc.limit, len(runs), tc.runs)
		}
		for i, r := range runs {
			if r.ID != want[i] || !r.Completed() || r.Ref != "v0.1.0-dev.1" {
				t.Fatalf("limit %d: run %d = %+v, want run %d completed on v0.1.0-dev.1", tc.limit, i, r, want[i])
			}
		}
		reqs := e.fake.Requests()
		if len(reqs) != tc.requests {
			t.Errorf("limit %d: %d requests, want %d", tc.limit, len(reqs), tc.requests)
		}
		for _, r := range reqs {
			if !strings.Contains(r.Path, "/actions/workflows/deploy-simple.yaml/runs") || !strings.Contains(r.Query, "status=completed") {
				t.Errorf("request %s %s?%s", r.Method, r.Path, r.Query)
			}
		}
		e.fake.ResetRequests()
	}
}

// A dry run reads the deploy history of the repository it wraps; over a
// local repository, which keeps none, it says so.
func TestDryRunDeployHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.CompleteRun(e.fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "v0.1.0-dev.1", SHA: e.fake.Head("main"), Event: "workflow_dispatch"}), "success")
	h := DryRun(e.gh, nil).(trains.DeployHistory)
	if runs, err := h.CompletedDeployRuns(t.Context(), 10); err != nil || len(runs) != 1 {
		t.Errorf("through the dry run: %v, %v", runs, err)
	}
	_, err := DryRun(&Local{}, nil).(trains.DeployHistory).CompletedDeployRuns(t.Context(), 10)
	if err == nil || !strings.Contains(err.Error(), "keeps no deploy runs") {
		t.Errorf("over a local repository: %v", err)
	}
}
