package deploy

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

func TestDryRunMakesNoWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	head := e.fake.Head("main")
	other := e.fake.AddCommit("main", "later", e.clock.Now())
	e.fake.AddTag("v0.1.0-dev.1", head)
	var out strings.Builder
	r := DryRun(e.gh, &out)
	ctx := t.Context()

	if h, err := r.Head(ctx); err != nil || h.SHA != other {
		t.Errorf("reads pass through: Head = %+v, %v", h, err)
	}
	if err := r.CreateTag(ctx, "v0.1.0-dev.2", other, "train"); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateTag(ctx, "v0.1.0-dev.1", head, "train"); err != nil {
		t.Errorf("a tag already there: %v", err)
	}
	var conflict *trains.TagConflictError
	if err := r.CreateTag(ctx, "v0.1.0-dev.1", other, "train"); !errors.As(err, &conflict) {
		t.Errorf("a conflict is still told: %v", err)
	}
	pub, err := r.WaitPublish(ctx, "v0.1.0-dev.2")
	if err != nil || !pub.Succeeded() || pub.Ref != "v0.1.0-dev.2" {
		t.Errorf("WaitPublish = %+v, %v", pub, err)
	}
	if err := r.Dispatch(ctx, "v0.1.0-dev.2", trains.Dev.WorkflowInputs()); err != nil {
		t.Fatal(err)
	}
	run, err := r.FindDeployRun(ctx, "v0.1.0-dev.2", e.clock.Now())
	if err != nil || run.ID != 0 || !run.Succeeded() {
		t.Errorf("FindDeployRun = %+v, %v", run, err)
	}
	if done, err := r.WaitRun(ctx, run.ID, false); err != nil || !done.Succeeded() {
		t.Errorf("WaitRun(0) = %+v, %v", done, err)
	}

	for _, q := range e.fake.Requests() {
		if q.Method != http.MethodGet {
			t.Errorf("a dry run sent %s", q)
		}
	}
	if _, ok := e.fake.Tag("v0.1.0-dev.2"); ok || len(e.fake.Dispatches()) != 0 || len(e.fake.Reviews()) != 0 {
		t.Error("a dry run changed the repository")
	}
	want := `dry run: would create tag v0.1.0-dev.2 on ` + other[:7] + ` ("train")
dry run: tag v0.1.0-dev.1 is already on ` + head[:7] + `: nothing to create
dry run: would wait for the publish run of v0.1.0-dev.2
dry run: would dispatch the deploy workflow ref=v0.1.0-dev.2 inputs environment=dev release_type=dev
`
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}
