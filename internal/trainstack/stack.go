// Package trainstack builds, for tests, a whole trains service over real
// adapters: the embedded store in a temporary folder and the GitHub Repo on
// go-github against githubfake. Only the channel is a recording fake of the
// Announcer port. A test may put a Redis store in instead, and one behind a
// fault proxy (FaultyRedis) to see the service when the network loses a
// write's reply. The service, commands and bot tests share it.
package trainstack

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The people of a stack: their Slack user ids.
const (
	Releaser  = "UREL"
	Validator = "UVAL"
	Val2      = "UVAL2"
	ChainOps  = "UOPS"
	Stranger  = "USTR"
)

// Stack is a service with its adapters.
type Stack struct {
	T     testing.TB
	Clock *trainstest.Clock
	GH    *githubfake.Fake
	Store trains.Store
	Ann   *trainstest.Announcer
	Svc   *trains.Service
	Roles *bot.Directory
	Cfg   trains.ServiceConfig
	// Stop ends the service's background work.
	Stop context.CancelFunc
}

// Options change a stack before it starts.
type Options struct {
	// Store replaces the embedded store (e.g. with Redis, or a
	// FaultyRedis's store).
	Store trains.Store
	// Announcer replaces the recording announcer.
	Announcer trains.Announcer
	// Config edits the service's settings.
	Config func(*trains.ServiceConfig)
	// GitHub, when not nil, is the fake GitHub to use instead of a new
	// one, and Clock the clock instead of a new one: a second stack over
	// the first one's fake, clock and Store is the service restarted.
	GitHub *githubfake.Fake
	Clock  *trainstest.Clock
	// BeforeSleep, when not nil, runs before each wait of the GitHub
	// adapter's polls (which take no real time otherwise); an error ends
	// the wait with it. A test holds a train between two polls with it.
	BeforeSleep func(ctx context.Context) error
	// Live, when not nil, turns live verification on (package live
	// against internal/promtest's Prometheus).
	Live trains.LiveVersions
	// Names names people in the calendar file; nil shows their ids.
	Names trains.Names
}

// DefaultSchedule is SPEC's: dev Tuesdays, staging every other Wednesday from 2026-05-13.
func DefaultSchedule() trains.Schedule {
	return trains.Schedule{
		Dev:           trains.SlotTime{Weekday: time.Tuesday, Hour: 14},
		Staging:       trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC),
	}
}

// At parses "2006-01-02 15:04" as UTC; it panics on a bad time.
func At(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// New starts a service at now over a fresh store and fake GitHub.
func New(t testing.TB, now time.Time, o Options) *Stack {
	t.Helper()
	clock := o.Clock
	if clock == nil {
		clock = trainstest.NewClock(now)
	}
	gh := o.GitHub
	if gh == nil {
		gh = githubfake.New(t, githubfake.WithClock(clock))
		gh.SetRunSteps(1)
	}
	store := o.Store
	if store == nil {
		bs, err := boltstore.Open(t.TempDir(), clock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bs.Close() })
		store = bs
	}
	// The GitHub adapter waits on its own clock, which its sleeper moves
	// at once: polling takes no real time, and the service's clock (which
	// the store's leases expire by) stays where the test puts it.
	repoClock := trainstest.NewClock(now)
	sleep := func(ctx context.Context, d time.Duration) error {
		if o.BeforeSleep != nil {
			if err := o.BeforeSleep(ctx); err != nil {
				return err
			}
		}
		repoClock.Advance(d)
		return ctx.Err()
	}
	client, err := deploy.NewClient("test-token", "", gh.HTTPClient(), deploy.WithClock(repoClock), deploy.WithSleeper(sleep))
	if err != nil {
		t.Fatal(err)
	}
	repoOpts := []deploy.Option{deploy.WithClock(repoClock), deploy.WithSleeper(sleep)}
	if objs, ok := store.(trains.TagObjectCache); ok {
		repoOpts = append(repoOpts, deploy.WithTagObjectCache(objs))
	}
	repo, err := deploy.New(gh.Point(client), deploy.Config{Owner: gh.Owner(), Repo: gh.Repo(), PublishWorkflow: "publish-images.yaml"},
		repoOpts...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := trains.ServiceConfig{
		Schedule: DefaultSchedule(), Soak: 168 * time.Hour, Reminders: []time.Duration{24 * time.Hour, time.Hour},
		InitialLine: trains.Line{Minor: 1}, StagingApprovals: 1, Repo: "acme/chain",
		DeployWorkflow: "deploy-simple.yaml", PublishWorkflow: "publish-images.yaml", Instance: "test",
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ann := &trainstest.Announcer{}
	var announcer trains.Announcer = ann
	if o.Announcer != nil {
		announcer = o.Announcer
	}
	roles := bot.NewDirectory([]string{Releaser}, []string{ChainOps}, []string{Validator, Val2, Releaser}, nil)
	svc := trains.NewService(cfg, trains.Deps{Store: store, Repo: repo, Announcer: announcer, Roles: roles, Clock: clock,
		Log: Logger(t), Calendar: repo, Live: o.Live, Names: o.Names})
	st := &Stack{T: t, Clock: clock, GH: gh, Store: store, Ann: ann, Svc: svc, Roles: roles, Cfg: cfg, Stop: cancel}
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return st
}

// Logger sends a log to the test's log.
func Logger(t testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(testWriter{t}, nil)) }

// Train reads a stored train.
func (st *Stack) Train(id trains.TrainID) trains.Train {
	st.T.Helper()
	tr, err := st.Store.GetTrain(context.Background(), id)
	if err != nil {
		st.T.Fatalf("get train %s: %v", id, err)
	}
	return tr
}

// Tag returns the commit a tag points at in the fake, "" when it does not exist.
func (st *Stack) Tag(name string) string {
	for _, tg := range st.GH.Tags() {
		if tg.Name == name {
			return tg.Commit
		}
	}
	return ""
}

// testWriter sends the service's log to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
