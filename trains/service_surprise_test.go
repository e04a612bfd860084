package trains_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

// unscheduled returns the one unscheduled-deploy announcement, failing the
// test when there is not exactly one.
func unscheduled(t *testing.T, e *env) trains.Message {
	t.Helper()
	var found []trains.Message
	for _, p := range e.ann.Top() {
		if strings.Contains(p.Text(), "Unscheduled deploy") {
			found = append(found, p.Message)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d unscheduled-deploy announcements, want 1", len(found))
	}
	return found[0]
}

// spans returns every span of m, fields' values included.
func spans(m trains.Message) []trains.Span {
	var out []trains.Span
	for _, b := range m.Blocks {
		out = append(out, b.Text...)
		for _, f := range b.Fields {
			out = append(out, f.Value...)
		}
	}
	return out
}

// An unscheduled deploy names what the validator paged at 3 a.m. needs:
// the commit (short sha and its message's first line), who triggered the
// run (the triggering actor of a re-run, not the first run's actor), the
// event, and a link to the run (SPEC §2).
func TestUnscheduledDeployNamesCommitActorEventAndRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	sha := e.gh.AddCommit("main", "Raise the gas limit to 30M\n\nThe validators asked for it in #412.", time.Time{})
	id := e.gh.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha,
		Event: "workflow_dispatch", Actor: "alice", TriggeringActor: "bob"})
	e.gh.CompleteRun(id, "success")
	tick(t, e)

	m := unscheduled(t, e)
	text := m.Plain()
	run := e.gh.Runs("deploy-simple.yaml")[0]
	for _, want := range []string{"main", sha[:7], "Raise the gas limit to 30M", "bob", "workflow_dispatch", run.URL} {
		if !strings.Contains(text, want) {
			t.Errorf("announcement lacks %q:\n%s", want, text)
		}
	}
	for _, not := range []string{"The validators asked", "alice"} {
		if strings.Contains(text, not) {
			t.Errorf("announcement shows %q:\n%s", not, text)
		}
	}
	linked := false
	for _, s := range spans(m) {
		if s.Kind == trains.Link && s.URL == run.URL {
			linked = true
		}
	}
	if !linked {
		t.Errorf("the run %s is not linked: %+v", run.URL, m)
	}
}

// A push's run names the pusher (its actor: nobody re-ran it).
func TestUnscheduledDeployByPush(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	sha := e.gh.AddCommit("main", "Fix the fee estimator", time.Time{})
	e.gh.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha, Event: "push", Actor: "carol"})
	tick(t, e)
	text := unscheduled(t, e).Plain()
	for _, want := range []string{sha[:7], "Fix the fee estimator", "carol", "push"} {
		if !strings.Contains(text, want) {
			t.Errorf("announcement lacks %q:\n%s", want, text)
		}
	}
}

// A commit message is whatever its author typed: it is shown as plain
// text — its first line only — never as markup that pings the channel or
// forges a link.
func TestUnscheduledDeployHostileCommitMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	msg := "Ship it <!channel> <https://evil.example|click> *now*\r\n<!here> and a second line"
	sha := e.gh.AddCommit("main", msg, time.Time{})
	e.gh.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha, Event: "push", Actor: "mallory"})
	tick(t, e)

	m := unscheduled(t, e)
	title := "Ship it <!channel> <https://evil.example|click> *now*"
	var holder *trains.Span
	for _, s := range spans(m) {
		if strings.Contains(s.Text, "<!here>") || strings.Contains(s.Text, "second line") || strings.ContainsAny(s.Text, "\r\n") {
			t.Errorf("span %+v shows more than the message's first line", s)
		}
		if s.Kind == trains.Link && strings.Contains(s.URL, "evil") || s.Kind == trains.Mention {
			t.Errorf("span %+v is markup from the commit message", s)
		}
		if strings.Contains(s.Text, "<!channel>") {
			holder = &s
		}
	}
	if holder == nil || holder.Kind != trains.Plain || !strings.Contains(holder.Text, title) {
		t.Errorf("the message's first line is not one plain span: %+v in %+v", holder, m)
	}
}
