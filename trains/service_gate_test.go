package trains_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The deploy workflow's jobs reference the dev environment, whose required
// reviewers are ana and the team Validators (bob is in it).
var devEnv = githubfake.Environment{ID: 161171787, Name: "dev",
	Reviewers: []githubfake.Reviewer{githubfake.User("ana"), githubfake.Team("Validators", "bob")}}

const waitsText = "waits for approval"

// review is what a reviewer does on GitHub once the thread says the run
// waits: a state, a login and a comment.
type review struct{ state, login, comment string }

// gatedStack is a stack whose deploy runs wait on devEnv. Once the
// train's thread says the run waits, the next poll first moves the
// service's clock by waited and then lets rv review it on GitHub (as a
// person would, between two polls).
func gatedStack(t *testing.T, waited time.Duration, rv review) *trainstack.Stack {
	t.Helper()
	var st *trainstack.Stack
	var done atomic.Bool
	st = trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{BeforeSleep: func(ctx context.Context) error {
		if _, said := st.Ann.Find(waitsText); !said || done.Load() {
			return nil
		}
		done.Store(true)
		st.Clock.Advance(waited)
		st.GH.ReviewAs(deployRunID(t, st.GH), rv.login, rv.state, rv.comment)
		return nil
	}})
	st.GH.RequireApproval("deploy-simple.yaml", devEnv)
	st.GH.AddCommits("main", 2)
	return st
}

// deployRunID is the newest deploy run's id.
func deployRunID(t *testing.T, gh *githubfake.Fake) int64 {
	t.Helper()
	runs := gh.Runs("deploy-simple.yaml")
	if len(runs) == 0 {
		t.Fatal("no deploy run")
	}
	return runs[len(runs)-1].ID
}

// cutDev cuts a dev train and waits until it stops.
func cutDev(t *testing.T, st *trainstack.Stack) trains.Train {
	t.Helper()
	res, err := st.Svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut: %v, %v", res.Outcome, err)
	}
	st.Svc.Wait()
	return st.Train(res.Train.ID)
}

// threadTexts is the train's thread as plain text.
func threadTexts(ann *trainstest.Announcer, tr trains.Train) []string {
	var out []string
	for _, p := range ann.Thread(tr.Message) {
		out = append(out, p.Text())
	}
	return out
}

func countContaining(texts []string, s string) int {
	n := 0
	for _, x := range texts {
		if strings.Contains(x, s) {
			n++
		}
	}
	return n
}

// topEdits is every version of the train's top message, as plain text.
func topEdits(ann *trainstest.Announcer, tr trains.Train) []string {
	for _, p := range ann.Top() {
		if p.Ref == tr.Message {
			out := []string{p.Message.Plain()}
			for _, e := range p.Edits {
				out = append(out, e.Plain())
			}
			return out
		}
	}
	return nil
}

func mustContainAll(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// A deploy run that waits on the dev environment's reviewers: the thread
// says so once, with the environment, who can approve and the run's
// review page; the top message shows "waiting for approval"; bob approves
// on GitHub, the thread says so with his comment, the run finishes and
// the train is deployed, with the time it waited recorded and counted in
// stats. trainbot reviews nothing.
func TestDeployWaitsForApprovalThenDeploys(t *testing.T) {
	t.Parallel()
	st := gatedStack(t, 5*time.Second, review{"approved", "bob", "dev looks calm, ship it"})
	tr := cutDev(t, st)

	if tr.State != trains.Deployed || tr.Gate != nil || tr.Waited != 5*time.Second {
		t.Fatalf("train is %s, gate %+v, waited %v; want deployed, no gate, 5s", tr.State, tr.Gate, tr.Waited)
	}
	thread := threadTexts(st.Ann, tr)
	if n := countContaining(thread, waitsText); n != 1 {
		t.Errorf("the thread says %d times that the run waits, want once:\n%s", n, strings.Join(thread, "\n"))
	}
	waits := thread[slicesIndex(thread, waitsText)]
	runURL := "https://github.com/acme/chain/actions/runs/" + itoa(tr.DeployRunID)
	mustContainAll(t, "the waiting message", waits, "dev", "ana or the team Validators", runURL, "never approves")
	approved := slicesIndex(thread, "Approved by bob")
	deployed := slicesIndex(thread, "is deployed to dev")
	if approved < 0 || deployed < approved {
		t.Fatalf("thread lacks the approval before the deploy:\n%s", strings.Join(thread, "\n"))
	}
	mustContainAll(t, "the approval message", thread[approved], "Approved by bob for dev: “dev looks calm, ship it”", "5s")

	edits := topEdits(st.Ann, tr)
	t.Logf("thread:\n%s\ntop message:\n%s", strings.Join(thread, "\n"), strings.Join(edits, "\n---\n"))
	if slicesIndex(edits, "waiting for approval") < 0 {
		t.Errorf("the top message never showed waiting for approval:\n%s", strings.Join(edits, "\n---\n"))
	}
	last := edits[len(edits)-1]
	mustContainAll(t, "the final top message", last, "deployed", "Waited for approval: 5s")
	if strings.Contains(last, "waiting for approval") {
		t.Errorf("the final top message still says waiting:\n%s", last)
	}

	if n := st.GH.Count("POST", "actions/runs/"); n != 0 {
		t.Errorf("trainbot sent %d POSTs to runs: it must never review", n)
	}
	if rs := st.GH.Reviews(); len(rs) != 1 || rs[0].User != "bob" {
		t.Errorf("reviews = %+v, want bob's alone", rs)
	}
	st.Clock.Advance(5 * time.Hour) // past the train's slot, 14:00
	stats, err := st.Svc.Stats(t.Context(), 30*24*time.Hour)
	if err != nil || stats.ApprovalWaits != 1 || stats.ApprovalWait != 5*time.Second {
		t.Errorf("stats = %+v, %v; want one train that waited 5s for approval", stats, err)
	}
}

// A rejected deploy: the run completes with failure, and the train fails
// with who rejected it and their comment, in the thread and on the top
// message.
func TestDeployRejectedFailsWithTheComment(t *testing.T) {
	t.Parallel()
	st := gatedStack(t, 3*time.Second, review{"rejected", "ana", "mtest-val-01 is re-rolling, not today"})
	tr := cutDev(t, st)

	want := "ana rejected the deployment to dev after 3s: “mtest-val-01 is re-rolling, not today”"
	if tr.State != trains.Failed || tr.Error != want || tr.Gate != nil || tr.Waited != 3*time.Second {
		t.Fatalf("train is %s (%q), gate %+v, waited %v; want failed with %q", tr.State, tr.Error, tr.Gate, tr.Waited, want)
	}
	thread := threadTexts(st.Ann, tr)
	if countContaining(thread, waitsText) != 1 || countContaining(thread, "❌ Train failed: "+want) != 1 {
		t.Errorf("thread:\n%s", strings.Join(thread, "\n"))
	}
	if countContaining(thread, "is deployed") != 0 {
		t.Errorf("a rejected train said deployed:\n%s", strings.Join(thread, "\n"))
	}
	edits := topEdits(st.Ann, tr)
	mustContainAll(t, "the final top message", edits[len(edits)-1], "failed", "not today")
	if n := st.GH.Count("POST", "actions/runs/"); n != 0 {
		t.Errorf("trainbot sent %d POSTs to runs: it must never review", n)
	}
}

// trainbot stops while the deploy waits for approval and starts again
// after bob approved it: the resumed train does not say again that it
// waits, says who approved, deploys, and records the 40 minutes it
// waited.
func TestResumeWhileWaitingForApproval(t *testing.T) {
	t.Parallel()
	var st *trainstack.Stack
	st = trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{BeforeSleep: func(ctx context.Context) error {
		if _, said := st.Ann.Find(waitsText); said {
			st.Stop() // trainbot stops between two polls of the waiting run
			return ctx.Err()
		}
		return nil
	}})
	st.GH.RequireApproval("deploy-simple.yaml", devEnv)
	st.GH.AddCommits("main", 2)
	first := cutDev(t, st)
	if first.State != trains.Deploying || first.Gate == nil || first.Gate.Environments[0] != "dev" {
		t.Fatalf("stopped train is %s with gate %+v; want deploying, waiting on dev", first.State, first.Gate)
	}

	st.Clock.Advance(40 * time.Minute)
	st.GH.ReviewAs(deployRunID(t, st.GH), "ana", "approved", "")
	// The restarted trainbot posts to the same channel.
	next := trainstack.New(t, st.Clock.Now(), trainstack.Options{GitHub: st.GH, Clock: st.Clock, Store: st.Store, Announcer: st.Ann})
	if err := next.Svc.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	next.Svc.Wait()
	tr := next.Train(first.ID)
	if tr.State != trains.Deployed || tr.Waited != 40*time.Minute {
		t.Fatalf("resumed train is %s, waited %v; want deployed after 40m", tr.State, tr.Waited)
	}
	all := threadTexts(st.Ann, tr)
	if n := countContaining(all, waitsText); n != 1 {
		t.Errorf("said %d times that the run waits, want once:\n%s", n, strings.Join(all, "\n"))
	}
	if countContaining(all, "Approved by ana for dev (no comment) — after 40m") != 1 || countContaining(all, "is deployed to dev") != 1 {
		t.Errorf("thread:\n%s", strings.Join(all, "\n"))
	}
}

func slicesIndex(texts []string, s string) int {
	for i, x := range texts {
		if strings.Contains(x, s) {
			return i
		}
	}
	return -1
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A run cancelled while it waits (or failed by GitHub after 30 days
// without a review): the thread says it no longer waits and GitHub
// recorded no review, and the train fails with the run's conclusion.
func TestDeployCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	var st *trainstack.Stack
	var done atomic.Bool
	st = trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{BeforeSleep: func(ctx context.Context) error {
		if _, said := st.Ann.Find(waitsText); said && !done.Swap(true) {
			st.GH.SetRunStatus(deployRunID(t, st.GH), "completed", "cancelled")
		}
		return nil
	}})
	st.GH.RequireApproval("deploy-simple.yaml", devEnv)
	st.GH.AddCommits("main", 2)
	tr := cutDev(t, st)
	if tr.State != trains.Failed || !strings.Contains(tr.Error, "the deploy run ended cancelled") || tr.Gate != nil {
		t.Fatalf("train is %s (%q), gate %+v; want failed, cancelled", tr.State, tr.Error, tr.Gate)
	}
	thread := threadTexts(st.Ann, tr)
	if countContaining(thread, "no longer waits for approval (completed); GitHub recorded no review") != 1 {
		t.Errorf("thread:\n%s", strings.Join(thread, "\n"))
	}
}
