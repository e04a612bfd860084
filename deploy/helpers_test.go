package deploy

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// start is when every test's clock starts.
var start = time.Date(2026, 5, 12, 14, 0, 0, 0, time.UTC)

// recSleeper records each wait and moves the clock instead of waiting.
type recSleeper struct {
	clock *trainstest.Clock
	mu    sync.Mutex
	waits []time.Duration
}

func (s *recSleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Advance(d)
	return nil
}

func (s *recSleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func (s *recSleeper) Total() time.Duration {
	var t time.Duration
	for _, w := range s.Waits() {
		t += w
	}
	return t
}

// env is a GitHub Repo on a fresh fake, with a clock moved by the sleeper.
type env struct {
	fake  *githubfake.Fake
	clock *trainstest.Clock
	sleep *recSleeper
	gh    *GitHub
}

func newEnv(t *testing.T, change ...func(*Config)) *env {
	t.Helper()
	clock := trainstest.NewClock(start)
	fake := githubfake.New(t, githubfake.WithClock(clock))
	sl := &recSleeper{clock: clock}
	opts := []Option{WithClock(clock), WithSleeper(sl.Sleep), WithJitter(func() float64 { return 0.5 })}
	hc := fake.HTTPClient()
	hc.Transport = NewTransport(hc.Transport, opts...)
	client := fake.Point(github.NewClient(hc).WithAuthToken("test-token"))
	cfg := Config{Owner: fake.Owner(), Repo: fake.Repo(), PublishWorkflow: "publish-images.yaml"}
	for _, c := range change {
		c(&cfg)
	}
	gh, err := New(client, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: fake, clock: clock, sleep: sl, gh: gh}
}
