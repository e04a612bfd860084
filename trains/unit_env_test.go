package trains_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The domain's unit tests (TestUnit…) run the service on the in-memory
// Repo of trainstest: no HTTP server, no go-github; runs end at once.
// The store is the embedded one (bbolt in a temporary folder), the roles
// the bot's directory of user ids. The tests through real adapters
// (newEnv, internal/trainstack) are the integration tests.
//
// newUnitEnv is the one place a unit test's Service is built: a change to
// how a Service is made is made here. Tests keep their own references to
// the service's dependencies and never read them through the Service.

// unitEnv is a service on the in-memory Repo, with its dependencies.
type unitEnv struct {
	t     *testing.T
	clock *trainstest.Clock
	repo  *trainstest.Repo
	store trains.Store
	ann   *trainstest.Announcer
	svc   *trains.Service
}

// unitConfig is the service's settings in the unit tests, as trainstack's.
func unitConfig() trains.ServiceConfig {
	return trains.ServiceConfig{
		Schedule: trains.Schedule{
			Dev:           trains.SlotTime{Weekday: time.Tuesday, Hour: 14},
			Staging:       trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
			StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC),
		},
		Soak: 168 * time.Hour, Reminders: []time.Duration{24 * time.Hour, time.Hour},
		InitialLine: trains.Line{Minor: 1}, StagingApprovals: 1, Repo: "acme/chain",
		DeployWorkflow: trainstest.DeployWorkflow, PublishWorkflow: trainstest.PublishWorkflow, Instance: "test",
	}
}

// newUnitEnv starts a service at now on a fresh in-memory Repo and
// embedded store; edit, when given, changes its settings first.
func newUnitEnv(t *testing.T, now time.Time, edit ...func(*trains.ServiceConfig)) *unitEnv {
	t.Helper()
	clock := trainstest.NewClock(now)
	store, err := boltstore.Open(t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := unitConfig()
	for _, f := range edit {
		f(&cfg)
	}
	e := &unitEnv{t: t, clock: clock, repo: trainstest.NewRepo(clock), store: store, ann: &trainstest.Announcer{}}
	roles := bot.NewDirectory([]string{releaser}, []string{chainOps}, []string{validator, val2, releaser}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	e.svc = trains.NewService(cfg, trains.Deps{Store: store, Repo: e.repo, Announcer: e.ann, Roles: roles, Clock: clock,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	done := make(chan struct{})
	go func() { defer close(done); _ = e.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// val2 is a second validator.
const val2 = "UVAL2"

// train reads a stored train.
func (e *unitEnv) train(id trains.TrainID) trains.Train {
	e.t.Helper()
	tr, err := e.store.GetTrain(context.Background(), id)
	if err != nil {
		e.t.Fatalf("get train %s: %v", id, err)
	}
	return tr
}

// tick runs one scheduler tick, which must not fail.
func (e *unitEnv) tick() {
	e.t.Helper()
	if err := e.svc.Tick(e.t.Context()); err != nil {
		e.t.Fatalf("tick: %v", err)
	}
}

// countTop counts the top messages whose text contains s.
func (e *unitEnv) countTop(s string) int {
	n := 0
	for _, p := range e.ann.Top() {
		if strings.Contains(p.Text(), s) {
			n++
		}
	}
	return n
}

// unitStagingEnv has a dev tag that has soaked 8 days (on the commit it
// returns) and one of 1 day.
func unitStagingEnv(t *testing.T) (*unitEnv, string) {
	e := newUnitEnv(t, at("2026-12-09 10:00"))
	soaked := e.repo.AddCommits("main", 1)[0]
	e.repo.AddAnnotatedTag("v0.5.0-dev.4", soaked, at("2026-12-01 14:00"))
	fresh := e.repo.AddCommits("main", 1)[0]
	e.repo.AddAnnotatedTag("v0.5.0-dev.5", fresh, at("2026-12-08 14:00"))
	return e, soaked
}
