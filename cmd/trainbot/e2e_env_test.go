package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/internal/testenv"
	"github.com/trainbot/trainbot/trains"
)

// End-to-end: `trainbot serve` as built by run, against slackfake (driven by
// the real slack-go client inside trainbot), githubfake (through go-github)
// and a real store — Redis, or the embedded bbolt file.

const (
	eRel   = "UREL"
	eVal   = "UVAL"
	eOps   = "UOPS"
	eOther = "UOTHER"
	eChan  = "C0CHANNEL1"
)

type e2e struct {
	t     *testing.T
	slack *slackfake.Server
	gh    *githubfake.Fake
	http  string // base URL of trainbot's HTTP endpoints
	stop  func() error
}

// startServe runs `trainbot serve` with the fakes; redisURL "" means the
// embedded store. extra sets more settings.
func startServe(t *testing.T, redisURL, prefix string, extra map[string]string) *e2e {
	t.Helper()
	gh := githubfake.New(t)
	gh.SetRunSteps(1)
	return startServeOn(t, gh, redisURL, prefix, t.TempDir(), extra)
}

// startServeOn runs `trainbot serve` on a given GitHub fake and data
// folder, so that a test can stop it and start another on the same state.
func startServeOn(t *testing.T, gh *githubfake.Fake, redisURL, prefix, dataDir string, extra map[string]string) *e2e {
	t.Helper()
	return startServeWith(t, serveSetup{gh: gh, redisURL: redisURL, prefix: prefix, dataDir: dataDir, extra: extra})
}

// serveSetup is what startServeWith runs trainbot serve on.
type serveSetup struct {
	gh                        *githubfake.Fake // required
	redisURL, prefix, dataDir string           // redisURL "": the embedded store in dataDir (a new folder when "")
	extra                     map[string]string
	// clock is trainbot's clock (the wall clock when nil): a test that
	// moves it drives the scheduler, reminders and caches in time.
	clock trains.Clock
	// groups seeds the Slack workspace's user groups (SVALIDATORS: UVAL when nil).
	groups map[string][]string
}

// startServeWith runs `trainbot serve` as setup says.
func startServeWith(t *testing.T, setup serveSetup) *e2e {
	t.Helper()
	clearEnv(t)
	gh, redisURL, prefix, dataDir, extra := setup.gh, setup.redisURL, setup.prefix, setup.dataDir, setup.extra
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	var clock trains.Clock = trains.SystemClock{}
	if setup.clock != nil {
		clock = setup.clock
	}
	sl := newSlack(t, setup.groups)
	addr := testenv.FreeAddr(t)
	for k, v := range serveSettings(sl, gh, redisURL, prefix, dataDir, addr, extra) {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs, clock: clock})
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return fmt.Errorf("serve did not stop within 30s")
		}
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("trainbot log:\n%s", logs.String())
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	select {
	case err := <-done:
		t.Fatalf("serve stopped at once: %v\n%s", err, logs.String())
	default:
	}
	if err := sl.WaitConnected(wctx); err != nil {
		t.Fatalf("trainbot did not connect to Slack: %v\n%s", err, logs.String())
	}
	return &e2e{t: t, slack: sl, gh: gh, http: "http://" + addr, stop: stop}
}

// newSlack is the Slack workspace of the end-to-end tests, with groups as
// its user groups (SVALIDATORS: UVAL when nil).
func newSlack(t *testing.T, groups map[string][]string) *slackfake.Server {
	t.Helper()
	if groups == nil {
		groups = map[string][]string{"SVALIDATORS": {eVal}}
	}
	return slackfake.NewForTest(t, slackfake.Options{
		Channels:   []slackfake.Channel{{ID: eChan, Name: "validators"}},
		Users:      []slackfake.User{{ID: eRel, Name: "rel"}, {ID: eVal, Name: "val"}, {ID: eOps, Name: "ops"}, {ID: eOther, Name: "other"}},
		UserGroups: groups,
	})
}

// serveSettings are the settings of a trainbot serving on sl and gh, with
// its HTTP endpoints on addr; extra adds or replaces some.
func serveSettings(sl *slackfake.Server, gh *githubfake.Fake, redisURL, prefix, dataDir, addr string, extra map[string]string) map[string]string {
	settings := map[string]string{
		"SLACK_APP_TOKEN": sl.AppToken(), "SLACK_BOT_TOKEN": sl.BotToken(), "SLACK_API_URL": sl.APIURL(),
		"GITHUB_TOKEN": "test-token", "GITHUB_API_URL": gh.URL(), "TRAINBOT_REPO": gh.Owner() + "/" + gh.Repo(),
		"TRAINBOT_CHANNEL": eChan, "TRAINBOT_RELEASERS": eRel, "TRAINBOT_CHAINOPS": eOps, "TRAINBOT_VALIDATORS": "SVALIDATORS",
		"TRAINBOT_HTTP_ADDR": addr, "TRAINBOT_GITHUB_POLL": "2ms", "TRAINBOT_SCHEDULER_TICK": "50ms", "REDIS_URL": redisURL, "TRAINBOT_REDIS_PREFIX": prefix,
		"TRAINBOT_DATA_DIR": dataDir, "TRAINBOT_LOG_LEVEL": "debug",
	}
	for k, v := range extra {
		settings[k] = v
	}
	return settings
}

// ctx is a context for one wait.
func (e *e2e) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// slash sends /train text as user — text as Slack sends it with escaping
// on: mentions as <@U…>, typed & < > as entities — checks the ack and
// returns the reply the user sees (trainbot answers through the response_url).
func (e *e2e) slash(user, text string) string {
	e.t.Helper()
	env := e.slack.NewSlashCommand(slackfake.SlashCommand{UserID: user, ChannelID: eChan, Text: text})
	return e.deliver(env)
}

func (e *e2e) deliver(env slackfake.Envelope) string {
	e.t.Helper()
	ack, err := e.slack.Deliver(e.ctx(), env)
	if err != nil {
		e.t.Fatalf("deliver: %v", err)
	}
	if ack.Latency > time.Second {
		e.t.Errorf("ack took %s", ack.Latency)
	}
	post, err := e.slack.WaitResponse(e.ctx(), env.ResponseURL, func(slackfake.ResponsePost) bool { return true })
	if err != nil {
		e.t.Fatalf("no reply to %q: %v", env.ID, err)
	}
	return post.Text + "\n" + string(post.Blocks)
}

// channelMessage waits for a message in the channel (top or thread) whose text has all of wants.
func (e *e2e) channelMessage(wants ...string) slackfake.Message {
	e.t.Helper()
	m, err := e.slack.WaitMessage(e.ctx(), func(m slackfake.Message) bool {
		if m.Channel != eChan || m.Ephemeral {
			return false
		}
		for _, w := range wants {
			if !strings.Contains(m.AllText(), w) {
				return false
			}
		}
		return true
	})
	if err != nil {
		e.t.Fatalf("no channel message with %q: %v", wants, err)
	}
	return m
}

func (e *e2e) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.http + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func contains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("lacks %q in:\n%s", w, got)
		}
	}
}

// stores runs f against Redis and against the embedded store.
func stores(t *testing.T, f func(t *testing.T, redisURL, prefix string)) {
	t.Run("redis", func(t *testing.T) {
		r := redistest.New(t)
		f(t, r.URL, r.Prefix)
	})
	t.Run("embedded", func(t *testing.T) { f(t, "", "") })
}
