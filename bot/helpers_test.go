package bot

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// workspace is the Slack workspace every test starts with.
func workspace() slackfake.Options {
	return slackfake.Options{
		PingInterval: 50 * time.Millisecond,
		Channels:     []slackfake.Channel{{ID: "C0CHANNEL1", Name: "rel"}, {ID: "C0CHANNEL2", Name: "private", NotMember: true}},
		Users:        []slackfake.User{{ID: "U01", Name: "ana"}, {ID: "U02", Name: "bob"}},
		UserGroups:   map[string][]string{"S01": {"U01", "W02"}},
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newAPI(fake *slackfake.Server) *slack.Client {
	return slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
}

// handlerFunc is a commands.Handler made of a function.
type handlerFunc func(ctx context.Context, r commands.Request) commands.Reply

func (f handlerFunc) Handle(ctx context.Context, r commands.Request) commands.Reply { return f(ctx, r) }

// recorder is a handler that records its requests and answers
// "done: <text>". When gate is set, each call first says it started on
// started and then waits for a value on gate.
type recorder struct {
	mu      sync.Mutex
	reqs    []commands.Request
	started chan commands.Request
	gate    chan struct{}
}

func newRecorder() *recorder { return &recorder{started: make(chan commands.Request, 100)} }

func (r *recorder) Handle(ctx context.Context, req commands.Request) commands.Reply {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	r.started <- req
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
		}
	}
	return commands.Reply{Message: trains.Say(trains.T("done: "), trains.C(req.Text))}
}

func (r *recorder) requests() []commands.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]commands.Request(nil), r.reqs...)
}

// running is a bot running against a fake Slack.
type running struct {
	fake *slackfake.Server
	api  *slack.Client
	bot  *Bot
	reg  *prometheus.Registry
	stop context.CancelFunc
	done chan error
}

// startBot runs a bot against a fresh fake Slack until the test ends.
func startBot(t *testing.T, cfg Config, h commands.Handler, store Store) *running {
	t.Helper()
	fake := slackfake.NewForTest(t, workspace())
	api := newAPI(fake)
	reg := prometheus.NewRegistry()
	b := New(cfg, Deps{
		Socket:  socketmode.New(api),
		API:     api,
		Handler: h,
		Store:   store,
		Logger:  testLogger(t),
		Metrics: NewMetrics(reg, "test", "abc123"),
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{fake: fake, api: api, bot: b, reg: reg, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// The bot sees slack-go's "connected" before the fake has sent hello
	// and counts the socket as live: wait for both.
	if err := b.WaitConnected(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := fake.WaitConnected(testContext(t)); err != nil {
		t.Fatal(err)
	}
	return r
}

// redisStore is a real Redis store with a key prefix of the test's own.
func redisStore(t *testing.T) *redisstore.Store {
	t.Helper()
	r := redistest.New(t)
	s, err := redisstore.New(r.Client, r.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// boltStore is the embedded store in a fresh folder.
func boltStore(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(t.TempDir(), trainstest.NewClock(slot), boltstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// deadStore is a real Redis store pointed at a port nobody listens on.
func deadStore(t *testing.T) *redisstore.Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.New(c, "", redisstore.WithTimeout(time.Second), redisstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitReply waits for a post to responseURL whose text contains want.
func waitReply(t *testing.T, ctx context.Context, fake *slackfake.Server, responseURL, want string) slackfake.ResponsePost {
	t.Helper()
	p, err := fake.WaitResponse(ctx, responseURL, func(p slackfake.ResponsePost) bool {
		return p.Error == "" && containsText(p.Text, p.Blocks, want)
	})
	if err != nil {
		t.Fatalf("no reply containing %q at %s: %v; posts: %+v", want, responseURL, err, fake.ResponsePosts(responseURL))
	}
	return p
}

func containsText(text string, blocks []byte, want string) bool {
	return strings.Contains(slackfake.Message{Text: text, Blocks: blocks}.AllText(), want)
}

// proxiedStore is a real Redis store whose client goes through a
// redistest.Proxy, with a short store timeout, so that a test can lose a
// write's reply or cut Redis off.
func proxiedStore(t *testing.T) (*redisstore.Store, *redistest.Proxy, *redistest.Redis) {
	t.Helper()
	r := redistest.New(t)
	p := redistest.NewProxy(t, r.URL)
	c := p.Client(t, func(o *redis.Options) { o.ReadTimeout = 300 * time.Millisecond })
	s, err := redisstore.New(c, r.Prefix, redisstore.WithTimeout(300*time.Millisecond), redisstore.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	// Load the claim script, so that the first claim a test makes is
	// sent as EVALSHA and applied (not refused with NOSCRIPT).
	if _, err := s.Claim(t.Context(), "warm", time.Minute); err != nil {
		t.Fatal(err)
	}
	return s, p, r
}
