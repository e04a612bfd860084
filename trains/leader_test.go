package trains_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

// Two replicas on one store: exactly one runs the scheduler, and when it
// stops the other takes over.
func TestOneSchedulerLeader(t *testing.T) {
	t.Parallel()
	a := newEnv(t, at("2026-12-01 14:00"))
	b := trainstack.New(t, a.clock.Now(), trainstack.Options{Store: a.store}) // a second replica
	// b's GitHub shows a push deploy: b announces it once it leads.
	b.GH.CompleteRun(b.GH.StartRun("deploy-simple.yaml", "main", b.GH.Head("main"), "push"), "success")

	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	ticksA, ticksB := make(chan time.Time), make(chan time.Time)
	doneA, doneB := make(chan struct{}), make(chan struct{})
	defer func() { stopA(); stopB(); <-doneA; <-doneB }()
	go func() {
		defer close(doneA)
		a.svc.RunScheduler(ctxA, trains.SchedulerConfig{Poll: time.Hour, LeaseTTL: time.Minute, Wake: ticksA})
	}()
	// A wake is received only once the work before it is done: after this
	// one, a holds the lease and has ticked (the unconfirmed train is
	// skipped).
	ticksA <- time.Time{}
	go func() {
		defer close(doneB)
		b.Svc.RunScheduler(ctxB, trains.SchedulerConfig{Poll: time.Hour, LeaseTTL: time.Minute, Wake: ticksB})
	}()
	ticksA <- time.Time{}
	ticksB <- time.Time{} // b cannot lead
	ticksB <- time.Time{}
	if a.train("dev-2026-12-01").State != trains.Skipped {
		t.Fatal("the leader did not tick")
	}
	if n := len(b.Ann.Posts()); n != 0 {
		t.Fatalf("the second replica acted while not leader: %d posts", n)
	}
	stopA()
	<-doneA // a released the lease on its way out
	ticksB <- time.Time{}
	ticksB <- time.Time{}
	found := false
	for _, p := range b.Ann.Posts() {
		found = found || strings.Contains(p.Text(), "Unscheduled deploy")
	}
	if !found {
		t.Error("the second replica did not take over the scheduler")
	}
}
