package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/internal/testenv"
)

// End-to-end with the real binary: trainbot built by go build and run as
// processes, which a test may kill with SIGKILL as a crash would.

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// binary builds trainbot once for the test run and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if _, err := exec.LookPath("go"); err != nil {
			build.err = fmt.Errorf("no go command on PATH to build trainbot with: %w", err)
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "trainbot-e2e-"); build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "trainbot")
		out, err := exec.Command("go", "build", "-o", build.path, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// process is a trainbot serve process.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	done chan struct{}
}

// startProcess starts `trainbot serve` with settings (and nothing of the
// test's own environment that trainbot reads); it is killed when t ends.
func startProcess(t *testing.T, name string, settings map[string]string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = processEnv(settings)
	p := &process{t: t, name: name, cmd: cmd, logs: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start trainbot: %v", err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("trainbot %s (pid %d) log:\n%s", name, cmd.Process.Pid, p.logs.String())
		}
	})
	return p
}

// kill stops the process at once (SIGKILL) and waits until it is gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// pid is the process id, which names the replica in its leases.
func (p *process) pid() int { return p.cmd.Process.Pid }

// processEnv is the environment without any trainbot setting, plus settings.
func processEnv(settings map[string]string) []string {
	ours := map[string]bool{}
	st := reflect.TypeOf(Settings{})
	for i := range st.NumField() {
		ours[st.Field(i).Tag.Get("envconfig")] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !ours[k] {
			env = append(env, kv)
		}
	}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	return env
}

// world is Slack and GitHub for trainbot processes on one Redis.
type world struct {
	*e2e
	redisURL, prefix string
}

// newWorld makes the fakes and a Redis prefix for processes to share.
func newWorld(t *testing.T, redisURL, prefix string) *world {
	t.Helper()
	gh := githubfake.New(t)
	return &world{e2e: &e2e{t: t, slack: newSlack(t, nil), gh: gh, stop: func() error { return nil }}, redisURL: redisURL, prefix: prefix}
}

// start starts a replica with extra settings and waits until its Socket
// Mode connection is the n-th open one.
func (w *world) start(name string, n int, extra map[string]string) *process {
	w.t.Helper()
	p := startProcess(w.t, name, serveSettings(w.slack, w.gh, w.redisURL, w.prefix, w.t.TempDir(), testenv.FreeAddr(w.t), extra))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.done: // it stopped: no use waiting
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := w.slack.WaitSockets(ctx, n); err != nil {
		w.t.Fatalf("trainbot %s did not connect to Slack: %v\n%s", name, err, p.logs.String())
	}
	return p
}

// waitRequest waits until GitHub has answered a request that match accepts,
// and returns when it saw it.
func (w *world) waitRequest(d time.Duration, what string, match func(githubfake.Request) bool) time.Time {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if _, err := w.gh.WaitRequests(ctx, func(rs []githubfake.Request) bool {
		for _, r := range rs {
			if match(r) {
				return true
			}
		}
		return false
	}); err != nil {
		w.t.Fatalf("GitHub saw no %s within %s: %v", what, d, err)
	}
	return time.Now()
}

func isTagCreation(r githubfake.Request) bool {
	return r.Method == "POST" && r.Route == "git/refs" && r.Status/100 == 2
}

func isDispatch(r githubfake.Request) bool {
	return r.Method == "POST" && strings.HasSuffix(r.Route, "/dispatches")
}

// count counts GitHub's answered requests that match accepts.
func (w *world) count(match func(githubfake.Request) bool) int {
	n := 0
	for _, r := range w.gh.Requests() {
		if match(r) {
			n++
		}
	}
	return n
}

// waitMessage waits up to d for a channel message with all of wants.
func (w *world) waitMessage(d time.Duration, wants ...string) slackfake.Message {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	m, err := w.slack.WaitMessage(ctx, func(m slackfake.Message) bool {
		for _, want := range wants {
			if !strings.Contains(m.AllText(), want) {
				return false
			}
		}
		return m.Channel == eChan
	})
	if err != nil {
		w.t.Fatalf("no channel message with %q within %s: %v", wants, d, err)
	}
	return m
}
