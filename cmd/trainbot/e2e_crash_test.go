package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
)

// SPEC §7: a crash at any step resumes within 30 s of a new process
// starting, or of another replica noticing, and never doubles a side
// effect. These tests SIGKILL the real binary.

// Killed right after GitHub answered the tag creation: a new process on
// the same store dispatches the deploy exactly once, within 30 s of its
// start, and the train ends deployed.
func TestE2EKilledAfterTagNewProcessDispatchesOnce(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	w := newWorld(t, r.URL, r.Prefix)
	w.gh.SetRunSteps(0) // the publish run waits until the test moves it
	w.gh.AddCommits("main", 2)

	a := w.start("a", 1, nil)
	contains(t, w.slash(eRel, "cut dev"), "v0.1.0-dev.1")
	w.waitRequest(20*time.Second, "tag creation", isTagCreation)
	a.kill()

	started := time.Now()
	w.start("b", 2, nil)
	w.gh.SetRunSteps(1)
	dispatched := w.waitRequest(40*time.Second, "deploy dispatch", isDispatch)
	took := dispatched.Sub(started)
	t.Logf("the new process dispatched %s after it started", took.Round(time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("the new process dispatched %s after it started, want within 30s", took)
	}
	w.waitMessage(30*time.Second, "v0.1.0-dev.1", "is deployed")
	if n := w.count(isDispatch); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
	if tags := w.gh.Tags(); countPrefix(tags, "v0.1.0-dev.") != 1 {
		t.Errorf("tags %v, want one dev tag", tags)
	}
}

// Two replicas; the one that leads the scheduler runs a train and is
// killed after dispatching its deploy. The other notices, takes the
// scheduler and the track lock, and finishes the train within 30 s,
// following the run already dispatched: one tag, one dispatch.
func TestE2ELeaderKilledMidTrainOtherReplicaFinishes(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	w := newWorld(t, r.URL, r.Prefix)
	w.gh.SetRunSteps(0)
	w.gh.AddCommits("main", 2)
	rdb := r.NewClient(t, nil)

	a := w.start("a", 1, nil)
	leaderIs := func(p *process) bool {
		v, _ := rdb.Get(context.Background(), r.Prefix+"lease:scheduler").Result()
		return strings.Contains(v, fmt.Sprintf("/%d/", p.pid())) // holder host/pid/random#n
	}
	contains(t, w.slash(eRel, "cut dev"), "v0.1.0-dev.1") // a is the only replica: it runs the train
	w.waitRequest(20*time.Second, "tag creation", isTagCreation)
	if !leaderIs(a) {
		t.Fatalf("replica a does not lead the scheduler")
	}
	b := w.start("b", 2, nil)
	publish := w.gh.Runs("publish-images.yaml")
	if len(publish) != 1 {
		t.Fatalf("publish runs: %+v", publish)
	}
	w.gh.CompleteRun(publish[0].ID, "success")
	w.waitRequest(20*time.Second, "deploy dispatch", isDispatch)
	a.kill()
	killed := time.Now()
	w.gh.SetRunSteps(1)

	w.waitMessage(40*time.Second, "v0.1.0-dev.1", "is deployed")
	took := time.Since(killed)
	t.Logf("replica b finished the train %s after a was killed", took.Round(time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("replica b finished the train %s after a was killed, want within 30s", took)
	}
	if !leaderIs(b) {
		t.Error("replica b does not lead the scheduler")
	}
	if n := w.count(isDispatch); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
	if tags := w.gh.Tags(); countPrefix(tags, "v0.1.0-dev.") != 1 {
		t.Errorf("tags %v, want one dev tag", tags)
	}
}

func countPrefix(tags []githubfake.Tag, prefix string) int {
	n := 0
	for _, tag := range tags {
		if strings.HasPrefix(tag.Name, prefix) {
			n++
		}
	}
	return n
}
