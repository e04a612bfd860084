// Package testenv says what a test does when something it needs from the
// machine is missing — a Redis, a prometheus or promtool binary, Chromium:
// it skips on a developer's machine, and fails when CI=true, where .ci/run
// installs everything, so that CI never passes by skipping. It also hands
// out free loopback addresses for the servers tests start.
package testenv

import (
	"net"
	"os"
	"strconv"
	"testing"
)

// CI reports whether the tests run under CI (CI=true).
func CI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Missing skips t, or fails it when CI=true, with msg: what is missing
// and how to get it.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if CI() {
		t.Fatal(msg + " (CI=true, so this fails instead of skipping)")
	}
	t.Skip(msg)
}

// FreeAddr returns a loopback address (127.0.0.1:port) whose port was free
// a moment ago, for a server a test starts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
