package trains_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The service is tested through real adapters: the embedded store, and the
// GitHub Repo on go-github against githubfake. Only the channel is a
// recording fake of the Announcer port.

const (
	releaser  = "UREL"
	validator = "UVAL"
	val2      = "UVAL2"
	chainOps  = "UOPS"
	stranger  = "USTR"
)

type env struct {
	t     *testing.T
	clock *trainstest.Clock
	gh    *githubfake.Fake
	store trains.Store
	ann   *trainstest.Announcer
	svc   *trains.Service
	cfg   trains.ServiceConfig
	stop  context.CancelFunc
}

// defaultSchedule is SPEC's: dev Tuesdays, staging every other Wednesday from 2026-05-13.
func defaultSchedule() trains.Schedule {
	return trains.Schedule{
		Dev:           trains.SlotTime{Weekday: time.Tuesday, Hour: 14},
		Staging:       trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC),
	}
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// newEnv starts a service at now over a fresh store and fake GitHub.
func newEnv(t *testing.T, now time.Time, edit ...func(*trains.ServiceConfig)) *env {
	t.Helper()
	clock := trainstest.NewClock(now)
	gh := githubfake.New(t, githubfake.WithClock(clock))
	gh.SetRunSteps(1)
	store, err := boltstore.Open(t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// The GitHub adapter waits on its own clock, which its sleeper moves
	// at once: polling takes no real time, and the service's clock (which
	// the store's leases expire by) stays where the test puts it.
	repoClock := trainstest.NewClock(now)
	sleep := deploy.SleeperFunc(func(ctx context.Context, d time.Duration) error {
		repoClock.Advance(d)
		return ctx.Err()
	})
	client, err := deploy.NewClient("test-token", "", gh.HTTPClient(), deploy.WithClock(repoClock), deploy.WithSleeper(sleep))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := deploy.New(gh.Point(client), deploy.Config{Owner: gh.Owner(), Repo: gh.Repo(), PublishWorkflow: "publish-images.yaml"},
		deploy.WithClock(repoClock), deploy.WithSleeper(sleep))
	if err != nil {
		t.Fatal(err)
	}
	cfg := trains.ServiceConfig{
		Schedule: defaultSchedule(), Soak: 168 * time.Hour, Reminders: []time.Duration{24 * time.Hour, time.Hour},
		InitialLine: trains.Line{Minor: 1}, StagingApprovals: 1, Repo: "acme/chain",
		DeployWorkflow: "deploy-simple.yaml", PublishWorkflow: "publish-images.yaml", Instance: "test",
	}
	for _, e := range edit {
		e(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ann := &trainstest.Announcer{}
	roles := commands.NewDirectory([]string{releaser}, []string{chainOps}, []string{validator, val2, releaser}, nil)
	svc := trains.NewService(ctx, cfg, trains.Deps{Store: store, Repo: repo, Announcer: ann, Roles: roles, Clock: clock,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	e := &env{t: t, clock: clock, gh: gh, store: store, ann: ann, svc: svc, cfg: cfg, stop: cancel}
	t.Cleanup(func() { cancel(); svc.Wait() })
	return e
}

// train reads a stored train.
func (e *env) train(id trains.TrainID) trains.Train {
	e.t.Helper()
	tr, err := e.store.GetTrain(context.Background(), id)
	if err != nil {
		e.t.Fatalf("get train %s: %v", id, err)
	}
	return tr
}

// tag returns the commit a tag points at in the fake, "" when it does not exist.
func (e *env) tag(name string) string {
	for _, tg := range e.gh.Tags() {
		if tg.Name == name {
			return tg.Commit
		}
	}
	return ""
}

// testWriter sends the service's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
