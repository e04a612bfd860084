package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/testenv"
)

// processMemory is a process's resident memory from /proc/PID/status, in
// KiB: VmRSS now and VmHWM, its peak.
type processMemory struct{ rss, hwm int }

// readMemory reads pid's VmRSS and VmHWM.
func readMemory(t *testing.T, pid int) processMemory {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("no /proc to measure memory with (the memory test needs Linux, as CI runs on): %v", err))
	}
	var m processMemory
	for _, line := range strings.Split(string(b), "\n") {
		key, val, _ := strings.Cut(line, ":")
		kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(val), " kB"))
		switch key {
		case "VmRSS":
			m.rss = kb
		case "VmHWM":
			m.hwm = kb
		}
	}
	if m.rss == 0 || m.hwm == 0 {
		t.Fatalf("no VmRSS or VmHWM in /proc/%d/status", pid)
	}
	return m
}

// measureServe runs the trainbot binary (serve) against the fakes on
// Redis, or on the embedded store when redisURL is "", through a day's
// work: a dev train cut and deployed, a hotfix, every read-only command,
// the calendar page and feed and /metrics scraped repeatedly. It returns
// the process's memory at the end.
func measureServe(t *testing.T, redisURL, prefix string) processMemory {
	t.Helper()
	w := newWorld(t, redisURL, prefix)
	addr := testenv.FreeAddr(t)
	p := startProcess(t, "memory", serveSettings(w.slack, w.gh, redisURL, prefix, t.TempDir(), addr, map[string]string{"TRAINBOT_LOG_LEVEL": "info"}))
	ctx := w.ctx()
	if err := w.slack.WaitSockets(ctx, 1); err != nil {
		t.Fatalf("trainbot did not connect: %v\n%s", err, p.logs.String())
	}
	w.gh.SetRunSteps(1)
	w.gh.AddTag("v0.1.0-staging.1", w.gh.Head("main"))
	w.gh.AddCommits("main", 30)
	do := func(user, text string) string {
		env := w.slack.NewSlashCommand(slackfake.SlashCommand{UserID: user, ChannelID: eChan, Text: text})
		if _, err := w.slack.Deliver(ctx, env); err != nil {
			t.Fatalf("deliver %q: %v", text, err)
		}
		post, err := w.slack.WaitResponse(ctx, env.ResponseURL, func(slackfake.ResponsePost) bool { return true })
		if err != nil {
			t.Fatalf("no reply to %q: %v", text, err)
		}
		return post.Text
	}
	do(eRel, "cut dev")
	w.waitMessage(20*time.Second, "v0.1.0-dev.1", "is deployed to dev")
	do(eRel, "hotfix "+w.gh.Head("main")+" memory check --force")
	w.waitMessage(20*time.Second, "v0.1.0-hotfix.1", "deployed")
	for range 20 {
		for _, text := range []string{"help", "calendar", "history 50", "stats 90d", "oncall", "pause", "changes v0.1.0-dev.1"} {
			do(eRel, text)
		}
		for _, path := range []string{"/metrics", "/calendar", "/calendar.ics", "/readyz"} {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	return readMemory(t, p.pid())
}

// TestServeMemoryFitsTheManifest measures what the Deployment's memory
// request and limit (docs/kubernetes/deployment.yaml) are sized on: the
// resident memory of `trainbot serve` after a day's work, on Redis and on
// the embedded store. Its peak must stay under the limit, and what it
// holds at the end under the request.
func TestServeMemoryFitsTheManifest(t *testing.T) {
	request, limit := manifestMemory(t)
	r := redistest.New(t)
	for _, store := range []struct{ name, url, prefix string }{{"redis", r.URL, r.Prefix}, {"embedded", "", ""}} {
		t.Run(store.name, func(t *testing.T) {
			m := measureServe(t, store.url, store.prefix)
			t.Logf("trainbot serve on %s: VmRSS %d KiB, VmHWM %d KiB (request %d KiB, limit %d KiB)", store.name, m.rss, m.hwm, request/1024, limit/1024)
			if int64(m.hwm)*1024 > limit {
				t.Errorf("peak resident memory %d KiB is over the Deployment's limit %d KiB", m.hwm, limit/1024)
			}
			if int64(m.rss)*1024 > request {
				t.Errorf("resident memory %d KiB is over the Deployment's request %d KiB", m.rss, request/1024)
			}
		})
	}
}
