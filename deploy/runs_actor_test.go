package deploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

// DeployRuns names each run's commit message and who triggered it, as
// GitHub reports them, so a surprise deploy can be told by who and what.
func TestDeployRunsNameCommitAndActor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	since := e.clock.Now()
	sha := e.fake.AddCommit("main", "Raise the gas limit\n\nbody", since)
	rerun := e.fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha,
		Event: "workflow_dispatch", Actor: "alice", TriggeringActor: "bob"})
	push := e.fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha, Event: "push", Actor: "carol"})

	runs, err := e.gh.DeployRuns(t.Context(), since)
	if err != nil {
		t.Fatal(err)
	}
	type named struct {
		ID                         int64
		SHA, Message, Actor, Event string
	}
	var got []named
	for _, r := range runs {
		got = append(got, named{r.ID, r.SHA, r.Message, r.Actor, r.Event})
	}
	want := []named{
		{rerun, sha, "Raise the gas limit\n\nbody", "bob", "workflow_dispatch"},
		{push, sha, "Raise the gas limit\n\nbody", "carol", "push"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	if runs[0].Title() != "Raise the gas limit" {
		t.Errorf("title %q", runs[0].Title())
	}
}

// Who triggered a run is its triggering actor (a re-run's), else its
// actor; a run without a head commit has no message.
func TestToRunActor(t *testing.T) {
	t.Parallel()
	user := func(login string) *github.User { return &github.User{Login: github.String(login)} }
	for _, tc := range []struct {
		name string
		run  *github.WorkflowRun
		want trains.Run
	}{
		{"both", &github.WorkflowRun{Actor: user("alice"), TriggeringActor: user("bob")}, trains.Run{Actor: "bob"}},
		{"actor only", &github.WorkflowRun{Actor: user("alice")}, trains.Run{Actor: "alice"}},
		{"nobody", &github.WorkflowRun{}, trains.Run{}},
		{"head commit", &github.WorkflowRun{HeadCommit: &github.HeadCommit{Message: github.String("m")}}, trains.Run{Message: "m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := toRun("", tc.run)
			got.Created = tc.want.Created
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
