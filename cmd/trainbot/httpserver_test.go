package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trainbot/trainbot/bot"
)

// shortTimeouts make a test's server cut slow and idle clients off fast.
var shortTimeouts = httpTimeouts{ReadHeader: 100 * time.Millisecond, Read: 200 * time.Millisecond,
	Write: 200 * time.Millisecond, Idle: 100 * time.Millisecond}

// clientPatience is how long a test's client waits for the server to close
// its connection: far above shortTimeouts, so that only a server without
// timeouts makes it run out.
const clientPatience = 5 * time.Second

// startHTTP serves trainbot's HTTP handler as serve does, with timeouts to,
// and returns its address.
func startHTTP(t *testing.T, to httpTimeouts) string {
	t.Helper()
	srv := newHTTPServer(t.Context(), bot.NewHTTPHandler(bot.HTTPConfig{Gatherer: prometheus.NewRegistry()}), to)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetReadDeadline(time.Now().Add(clientPatience)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitClosed reads r until the server closes the connection and returns
// what it read; it fails t if the client's deadline runs out first.
func waitClosed(t *testing.T, r io.Reader, what string) string {
	t.Helper()
	b, err := io.ReadAll(r)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("%s: the server kept the connection open for %s", what, clientPatience)
	case err != nil && !isReset(err):
		t.Fatalf("%s: read: %v", what, err)
	}
	return string(b)
}

// isReset is a connection the server closed with data unread (RST).
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func TestHTTPCutsOffSlowHeaders(t *testing.T) {
	t.Parallel()
	addr := startHTTP(t, shortTimeouts)

	t.Run("headers never finished", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: trainbot\r\n"); err != nil {
			t.Fatal(err)
		}
		if got := waitClosed(t, conn, "headers never finished"); got != "" {
			t.Errorf("the server answered %q to unfinished headers, want it to close the connection", got)
		}
	})

	t.Run("headers trickled in", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: trainbot\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		// A slowloris: one more byte of header every 10 ms, for as long as
		// the server takes them. ReadHeader counts from the request's
		// first byte, so trickling does not extend it.
		stop := make(chan struct{})
		writerDone := make(chan struct{})
		go func() {
			defer close(writerDone)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := io.WriteString(conn, "a"); err != nil {
						return
					}
				}
			}
		}()
		got := waitClosed(t, conn, "headers trickled in")
		close(stop)
		<-writerDone
		if got != "" {
			t.Errorf("the server answered %q to trickled headers, want it to close the connection", got)
		}
	})
}

func TestHTTPCutsOffIdleConnections(t *testing.T) {
	t.Parallel()
	addr := startHTTP(t, shortTimeouts)
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: trainbot\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok\n" || resp.Close {
		t.Fatalf("GET /healthz: %d %q close=%v (%v), want 200 ok on a kept-alive connection", resp.StatusCode, body, resp.Close, err)
	}
	// Now say nothing: the server closes the idle connection.
	if got := waitClosed(t, br, "idle connection"); got != "" {
		t.Errorf("the server sent %q on an idle connection", got)
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t.Context(), http.NewServeMux(), defaultHTTPTimeouts)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 || d > 2*time.Minute {
			t.Errorf("%s = %s, want a bound from 1ns to 2m", name, d)
		}
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %s is above ReadTimeout %s", srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
}
