package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// idleRSS builds trainbot, runs `trainbot serve` against slackfake and a
// GitHub stand-in that lists no runs, lets it settle for a few seconds and
// returns its VmRSS in KiB.
func idleRSS(ctx context.Context) (int, error) {
	dir, err := os.MkdirTemp("", "trainbot-rss-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "trainbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/trainbot")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build (run from the repository root): %v: %s", err, out)
	}
	fake := slackfake.New(slackfake.Options{Channels: []slackfake.Channel{{ID: "C1"}}})
	defer fake.Close()
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/runs") {
			fmt.Fprint(w, `{"total_count":0,"workflow_runs":[]}`)
			return
		}
		fmt.Fprint(w, `[]`)
	}))
	defer gh.Close()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(),
		"SLACK_APP_TOKEN="+fake.AppToken(), "SLACK_BOT_TOKEN="+fake.BotToken(), "SLACK_API_URL="+fake.APIURL(),
		"GITHUB_TOKEN=x", "GITHUB_API_URL="+gh.URL+"/", "TRAINBOT_REPO=acme/chain", "TRAINBOT_CHANNEL=C1",
		"TRAINBOT_DATA_DIR="+filepath.Join(dir, "data"), "REDIS_URL=", "TRAINBOT_HTTP_ADDR=127.0.0.1:0", "TRAINBOT_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := fake.WaitConnected(wctx); err != nil {
		return 0, fmt.Errorf("trainbot did not connect: %w", err)
	}
	time.Sleep(3 * time.Second) // a measurement of the idle process, not synchronisation
	return vmRSS(cmd.Process.Pid)
}

// vmRSS reads a process's resident set size in KiB.
func vmRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, errNoProc
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
