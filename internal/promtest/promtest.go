// Package promtest gives tests a real Prometheus server (Debian's
// prometheus, from PATH) on a free loopback port, scraping test exporters
// every second, and those exporters: httptest servers that serve a
// build_info{version=…} gauge through client_golang, whose version a test
// changes when it "deploys".
//
// When no prometheus binary can be found the test is skipped, or fails
// when CI=true, so that CI never passes by skipping.
package promtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/internal/testenv"
)

// EnvBinary names the environment variable that may point tests at a
// prometheus binary; else it is looked up on PATH.
const EnvBinary = "TRAINBOT_TEST_PROMETHEUS"

// ScrapeInterval is how often the server scrapes its exporters.
const ScrapeInterval = time.Second

// Unavailable skips t, or fails it under CI=true, saying why no
// Prometheus could be had.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	testenv.Missing(t, "no Prometheus for this test: "+why+". Install Debian's prometheus package (apt-get install prometheus) or set "+EnvBinary+" to a prometheus binary")
}

// Binary returns the prometheus binary, skipping (or failing) t when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		return p
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		Unavailable(t, "prometheus is not on PATH")
	}
	return p
}

// Server is a running Prometheus.
type Server struct {
	// URL is its HTTP API base URL, http://127.0.0.1:PORT.
	URL string
	t   testing.TB
	cmd *exec.Cmd
	log *syncbuf.Buffer

	mu      sync.Mutex
	stopped bool
	exited  chan struct{}
}

// Start starts a Prometheus that scrapes targets (host:port, /metrics)
// every ScrapeInterval, with its data in a temporary folder, and waits
// until it is ready. It is killed when t ends; its log is shown when t
// failed.
func Start(t testing.TB, targets ...string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	var quoted []string
	for _, tg := range targets {
		quoted = append(quoted, strconv.Quote(tg))
	}
	config := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
  - job_name: services
    static_configs:
      - targets: [%[2]s]
`, ScrapeInterval, strings.Join(quoted, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	s := &Server{URL: "http://" + addr, t: t, log: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		Unavailable(t, fmt.Sprintf("start %s: %v", bin, err))
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", s.log.String())
		}
	})
	if err := s.waitReady(30 * time.Second); err != nil {
		t.Fatalf("prometheus on %s: %v\nits log:\n%s", addr, err, s.log.String())
	}
	return s
}

// waitReady polls /-/ready until it answers 200, the process exits, or
// the deadline passes.
func (s *Server) waitReady(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s", within)
		case <-tick.C:
		}
	}
}

// Stop kills the server (its API stops answering at once) and waits for it
// to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Exporter is a scrape target with the RFC's gauge, build_info{version=…}
// 1, for each of its instances (labelled pod="pod-N"): one target, so that
// every instance changes version in the same scrape.
type Exporter struct {
	srv       *httptest.Server
	info      *prometheus.GaugeVec
	instances int

	mu      sync.Mutex
	scrapes int
}

// NewExporter starts an exporter whose instances (at least one) report
// version ("" reports no build_info series). It is closed when t ends.
func NewExporter(t testing.TB, version string, instances int) *Exporter {
	t.Helper()
	reg := prometheus.NewRegistry()
	e := &Exporter{instances: max(instances, 1), info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "build_info",
		Help: "Always 1; the labels say which build runs.",
	}, []string{"version", "revision", "pod"})}
	reg.MustRegister(e.info)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		// Under the lock, so that a scrape sees every instance on the
		// same version: SetVersion changes them all at once.
		e.mu.Lock()
		defer e.mu.Unlock()
		e.scrapes++
		h.ServeHTTP(w, r)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.SetVersion(version)
	return e
}

// Target is the exporter's host:port, for Start.
func (e *Exporter) Target() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// SetVersion makes the exporter report version from its next scrape on:
// the test's "deploy".
func (e *Exporter) SetVersion(version string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.info.Reset()
	if version == "" {
		return
	}
	for i := range e.instances {
		e.info.WithLabelValues(version, "0123abc", fmt.Sprintf("pod-%d", i)).Set(1)
	}
}

// Scrapes counts the scrapes the exporter has answered.
func (e *Exporter) Scrapes() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scrapes
}

// WaitScraped waits until the exporter has been scraped n times, at most
// within: a new Prometheus scrapes its targets first some seconds after it
// is ready (its service discovery settles first).
func (e *Exporter) WaitScraped(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for e.Scrapes() < n {
		if time.Now().After(deadline) {
			t.Fatalf("promtest: the exporter at %s was scraped %d times in %s, want %d", e.Target(), e.Scrapes(), within, n)
		}
		time.Sleep(20 * time.Millisecond) // polling an observable condition, with a deadline
	}
}
