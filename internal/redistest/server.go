package redistest

import (
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Server is a redis-server started for one test, which the test may kill
// and restart on the same port (its data folder stays, so with persistence
// on, the data comes back).
type Server struct {
	t    testing.TB
	bin  string
	port int
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// StartServer starts a redis-server on a free port for t, with extra
// redis-server arguments (e.g. "--appendonly", "yes"), waits until it
// answers, and kills it when t ends. Without redis-server on PATH, t is
// skipped (failed when CI=true).
func StartServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Unavailable(t, "this test starts its own redis-server and none is on PATH")
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("redistest: no free port: %v", err)
	}
	s := &Server{t: t, bin: bin, port: port, args: serverArgs(port, t.TempDir(), extra...)}
	t.Cleanup(s.Kill)
	s.Restart()
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// URL returns the server's Redis URL (db 0).
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Kill stops the server at once (SIGKILL), as a crash would, and waits
// until it is gone. Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port (it must be stopped,
// or never started) and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("redistest: Restart of a running server: Kill it first")
	}
	cmd := exec.Command(s.bin, s.args...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	s.cmd = cmd
	if err := waitUp(s.URL(), 10*time.Second); err != nil {
		s.t.Fatalf("redistest: redis-server on %s does not answer: %v", s.Addr(), err)
	}
}
