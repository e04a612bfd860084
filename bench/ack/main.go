// Command ack measures trainbot's Socket Mode ack latency (SPEC §7, issue 5).
// It serves internal/slackfake in this process and sends slash commands
// through it, c at a time, to a client in a process of its own, as Slack
// would be remote: first a bare slack-go Socket Mode client that only acks
// (this program again, with -role bare), then `trainbot serve` (built from
// this checkout, with the embedded store, or Redis with -redis, and a small
// GitHub stand-in). It prints p50 and p99 for each and their ratio; with
// -rss, the resident memory of the idle trainbot serve.
//
// Run it from the repository root:
//
//	go run ./bench/ack [-n 1000] [-c 50] [-rss]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trainbot/trainbot/internal/slackfake"
)

func main() {
	n := flag.Int("n", 1000, "slash commands to send")
	c := flag.Int("c", 50, "how many at a time")
	flag.Float64Var(&rate, "rate", 0, "open loop: send this many commands a second, whatever the acks do (0: closed loop, -c at a time)")
	rss := flag.Bool("rss", false, "also print the resident memory of the idle trainbot serve")
	redisURL := flag.String("redis", "", "a Redis URL for trainbot's store (default: the embedded store)")
	rounds := flag.Int("rounds", 3, "rounds, each client in turn, pooled: machine noise drifts between runs")
	mix := flag.String("texts", "help,calendar,oncall,history 5,pause,cutt dev", "the commands sent, comma-separated, in turn")
	role := flag.String("role", "", "internal: \"bare\" runs the bare client against -api; \"sink\" answers response_url posts on -addr")
	api := flag.String("api", "", "internal: the Slack API URL for -role bare")
	addr := flag.String("addr", "", "internal: the address for -role sink")
	flag.Parse()
	var err error
	switch *role {
	case "bare":
		err = runBare(*api)
	case "sink":
		err = runSink(*addr)
	default:
		err = run(*n, *c, *rounds, *rss, *redisURL, strings.Split(*mix, ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, c, rounds int, rss bool, redisURL string, texts []string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "trainbot-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// Replies to response_urls go to a sink in a process of its own, as
	// they go to Slack's servers, not to the fake that measures the acks.
	sinkAddr, err := freeAddr()
	if err != nil {
		return err
	}
	sink := exec.CommandContext(ctx, self, "-role", "sink", "-addr", sinkAddr)
	sink.Stderr = os.Stderr
	if err := sink.Start(); err != nil {
		return err
	}
	defer func() { _ = sink.Process.Signal(os.Interrupt); _ = sink.Wait() }()
	sinkURL := "http://" + sinkAddr
	bin := filepath.Join(dir, "trainbot")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/trainbot").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/trainbot (run from the repository root): %v: %s", err, out)
	}

	gh := githubStandIn()
	defer gh.Close()
	startBare := func(fake *slackfake.Server) *exec.Cmd {
		return exec.CommandContext(ctx, self, "-role", "bare", "-api", fake.APIURL())
	}
	startTrainbot := func(fake *slackfake.Server) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, "serve")
		cmd.Env = append(os.Environ(),
			"SLACK_APP_TOKEN="+fake.AppToken(), "SLACK_BOT_TOKEN="+fake.BotToken(), "SLACK_API_URL="+fake.APIURL(),
			"GITHUB_TOKEN=x", "GITHUB_API_URL="+gh.URL+"/", "TRAINBOT_REPO=acme/chain", "TRAINBOT_CHANNEL=C0CHANNEL1",
			"TRAINBOT_RELEASERS=U01", "TRAINBOT_DATA_DIR="+filepath.Join(dir, "data"), "REDIS_URL="+redisURL,
			"TRAINBOT_REDIS_PREFIX={trainbot-bench}:", "TRAINBOT_HTTP_ADDR=127.0.0.1:0", "TRAINBOT_LOG_LEVEL=error")
		return cmd
	}
	// The clients take turns, round after round, and each one's latencies
	// are pooled: the machine's background load drifts between runs.
	var bareLat, tbLat []time.Duration
	var bareRounds, tbRounds []string
	kib := 0
	for r := range max(rounds, 1) {
		l, _, err := measure(ctx, n, c, texts, sinkURL, startBare, false)
		if err != nil {
			return fmt.Errorf("bare client: %w", err)
		}
		bareLat, bareRounds = append(bareLat, l...), append(bareRounds, pct(l, 50).String())
		l, k, err := measure(ctx, n, c, texts, sinkURL, startTrainbot, rss && r == 0)
		if err != nil {
			return fmt.Errorf("trainbot: %w", err)
		}
		if r == 0 {
			kib = k
		}
		tbLat, tbRounds = append(tbLat, l...), append(tbRounds, pct(l, 50).String())
	}
	bare := result{p50: pct(bareLat, 50), p99: pct(bareLat, 99)}
	tb := result{p50: pct(tbLat, 50), p99: pct(tbLat, 99)}
	load := fmt.Sprintf("%d at a time", c)
	if rate > 0 {
		load = fmt.Sprintf("%.0f a second", rate)
	}
	fmt.Printf("ack latency over %d rounds of %d slash commands, %s (%s)\n", max(rounds, 1), n, load, strings.Join(texts, ", "))
	fmt.Printf("p50 of each round: bare %s; trainbot %s\n", strings.Join(bareRounds, " "), strings.Join(tbRounds, " "))
	fmt.Printf("%-22s %10s %10s\n", "", "p50", "p99")
	fmt.Printf("%-22s %10s %10s\n", "bare slack-go client", bare.p50.Round(time.Microsecond), bare.p99.Round(time.Microsecond))
	fmt.Printf("%-22s %10s %10s\n", "trainbot serve", tb.p50.Round(time.Microsecond), tb.p99.Round(time.Microsecond))
	fmt.Printf("p50 ratio %.2f (target ≤ 1.5); trainbot p99 %s (target < 50ms)\n", float64(tb.p50)/float64(bare.p50), tb.p99.Round(time.Microsecond))
	if rss {
		fmt.Printf("idle trainbot serve: VmRSS %.1f MiB (target < 30 MiB)\n", float64(kib)/1024)
	}
	return nil
}

type result struct{ p50, p99 time.Duration }

// pct is the p-th percentile of lat.
func pct(lat []time.Duration, p int) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)*p/100, len(s)-1)].Round(time.Microsecond)
}

// rate, when above zero, makes send an open loop at that many commands a second.
var rate float64

// measure starts a fake, the client start makes, and sends n commands to it.
// With idleRSS it first reads the idle client's resident memory (KiB).
func measure(ctx context.Context, n, c int, texts []string, sinkURL string, start func(*slackfake.Server) *exec.Cmd, idleRSS bool) ([]time.Duration, int, error) {
	fake := slackfake.New(slackfake.Options{
		Channels:        []slackfake.Channel{{ID: "C0CHANNEL1", Name: "validators"}},
		Users:           []slackfake.User{{ID: "U01", Name: "ana"}},
		ResponseURLBase: sinkURL,
	})
	defer fake.Close()
	cmd := start(fake)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := fake.WaitConnected(wctx); err != nil {
		return nil, 0, fmt.Errorf("the client did not connect: %w", err)
	}
	kib := 0
	if idleRSS {
		time.Sleep(3 * time.Second) // let it settle: this measures the idle process, it synchronises nothing
		var err error
		if kib, err = vmRSS(cmd.Process.Pid); err != nil {
			return nil, 0, err
		}
	}
	// A warm-up round, not measured: connections, caches, the first store writes.
	if _, err := send(ctx, fake, min(n, 100), c, texts); err != nil {
		return nil, 0, err
	}
	lat, err := send(ctx, fake, n, c, texts)
	return lat, kib, err
}

// send sends n slash commands, c at a time, and returns their ack latencies.
func send(ctx context.Context, fake *slackfake.Server, n, c int, texts []string) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, c)
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
	for i := range n {
		if tick != nil {
			<-tick // open loop: a command every 1/rate, however many are in flight
		} else {
			sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tick == nil {
				defer func() { <-sem }()
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			ack, err := fake.SlashCommand(sctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: texts[i%len(texts)]})
			lat[i], errs[i] = ack.Latency, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return lat, nil
}
