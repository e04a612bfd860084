// Command ack measures trainbot's Socket Mode ack latency (SPEC §7, issue 5):
// it sends slash commands through internal/slackfake, n at a time, to
// trainbot's bot (real commands, service and embedded store, a local git
// repository) and to a bare slack-go Socket Mode client that only acks,
// and prints p50 and p99 for each and their ratio. With -rss it also builds
// trainbot, runs an idle `trainbot serve` against the fake and prints its
// resident memory.
//
//	go run ./bench/ack [-n 1000] [-c 50] [-rss]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/storage"
	"github.com/trainbot/trainbot/trains"
)

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

func main() {
	n := flag.Int("n", 1000, "slash commands to send")
	c := flag.Int("c", 50, "how many at a time")
	rss := flag.Bool("rss", false, "also measure the resident memory of an idle trainbot serve")
	flag.StringVar(&redisURL, "redis", "", "a Redis URL for trainbot's store (default: the embedded store)")
	flag.StringVar(&mix, "texts", "help,calendar,oncall,history 5,pause,cutt dev", "the commands sent, comma-separated, in turn")
	flag.Parse()
	if err := run(*n, *c, *rss); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var redisURL, mix string

func run(n, c int, rss bool) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	texts := strings.Split(mix, ",")

	bare, err := measure(ctx, n, c, texts, startBare)
	if err != nil {
		return fmt.Errorf("bare client: %w", err)
	}
	tb, err := measure(ctx, n, c, texts, startTrainbot)
	if err != nil {
		return fmt.Errorf("trainbot: %w", err)
	}
	fmt.Printf("ack latency over %d slash commands, %d at a time\n", n, c)
	fmt.Printf("%-22s %10s %10s\n", "", "p50", "p99")
	fmt.Printf("%-22s %10s %10s\n", "bare slack-go client", bare.p50, bare.p99)
	fmt.Printf("%-22s %10s %10s\n", "trainbot", tb.p50, tb.p99)
	fmt.Printf("ratio p50 %.2f (target ≤ 1.5), trainbot p99 %s (target < 50ms)\n", float64(tb.p50)/float64(bare.p50), tb.p99)
	if rss {
		kib, err := idleRSS(ctx)
		if err != nil {
			return fmt.Errorf("idle RSS: %w", err)
		}
		fmt.Printf("idle trainbot serve: VmRSS %.1f MiB (target < 30 MiB)\n", float64(kib)/1024)
	}
	return nil
}

type result struct{ p50, p99 time.Duration }

// starter connects a Socket Mode client to fake and returns when it may be sent to.
type starter func(ctx context.Context, fake *slackfake.Server, api *slack.Client) (stop func(), err error)

func measure(ctx context.Context, n, c int, texts []string, start starter) (result, error) {
	fake := slackfake.New(slackfake.Options{
		Channels: []slackfake.Channel{{ID: "C1", Name: "validators"}},
		Users:    []slackfake.User{{ID: "U1", Name: "ana"}},
	})
	defer fake.Close()
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	stop, err := start(ctx, fake, api)
	if err != nil {
		return result{}, err
	}
	defer stop()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := fake.WaitConnected(wctx); err != nil {
		return result{}, err
	}
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, c)
	var firstErr error
	var mu sync.Mutex
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
			defer scancel()
			ack, err := fake.SlashCommand(sctx, slackfake.SlashCommand{UserID: "U1", ChannelID: "C1", Text: texts[i%len(texts)]})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			lat[i] = ack.Latency
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	slices.Sort(lat)
	return result{p50: lat[n/2], p99: lat[n*99/100]}, nil
}

// startBare runs a slack-go Socket Mode client that only acks.
func startBare(ctx context.Context, _ *slackfake.Server, api *slack.Client) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	sm := socketmode.New(api)
	done := make(chan struct{})
	go func() { defer close(done); _ = sm.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-sm.Events:
				if evt.Request != nil && evt.Request.EnvelopeID != "" {
					_ = sm.Ack(*evt.Request)
				}
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// startTrainbot runs trainbot's bot with its real commands and service on
// the embedded store and a local git repository.
func startTrainbot(ctx context.Context, _ *slackfake.Server, api *slack.Client) (func(), error) {
	dir, err := os.MkdirTemp("", "trainbot-bench-")
	if err != nil {
		return nil, err
	}
	if err := gitInit(dir); err != nil {
		return nil, err
	}
	clock := systemClock{}
	store, closer, desc, err := storage.Open(ctx, storage.Config{RedisURL: redisURL, Prefix: "{trainbot-bench}:", DataDir: filepath.Join(dir, "data")}, clock, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	fmt.Println("trainbot's", desc)
	log := slog.New(slog.DiscardHandler)
	roles := commands.NewDirectory([]string{"U1"}, nil, nil, nil)
	sched := trains.Schedule{Dev: trains.SlotTime{Weekday: time.Tuesday, Hour: 14}, Staging: trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC)}
	ctx, cancel := context.WithCancel(ctx)
	svc := trains.NewService(ctx, trains.ServiceConfig{Schedule: sched, Soak: 168 * time.Hour, InitialLine: trains.Line{Minor: 1}, StagingApprovals: 1},
		trains.Deps{Store: store, Repo: deploy.NewLocal(dir, "main", "", io.Discard), Announcer: bot.NewAnnouncer(api, "C1"), Roles: roles, Clock: clock, Log: log})
	cmds, err := commands.New(commands.Deps{Service: svc, Roles: roles, Log: log})
	if err != nil {
		cancel()
		return nil, err
	}
	b := bot.New(bot.Config{}, bot.Deps{Socket: socketmode.New(api), API: api, Handler: cmds, Store: store, Logger: log, Clock: clock})
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	return func() {
		cancel()
		<-done
		svc.Wait()
		closer.Close()
		os.RemoveAll(dir)
	}, nil
}

func gitInit(dir string) error {
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"commit", "-q", "--allow-empty", "-m", "first"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, out)
		}
	}
	return nil
}

var errNoProc = errors.New("no /proc: resident memory is read from /proc/<pid>/status on Linux")
