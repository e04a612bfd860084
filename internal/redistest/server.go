package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server started for one test, which the test may kill
// and restart on the same port (its data folder stays, so with persistence
// on, the data comes back).
type Server struct {
	t    testing.TB
	bin  string
	port int
	args []string
	out  string // file the server's output goes to
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
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
	dir := t.TempDir()
	s := &Server{t: t, bin: bin, port: port, args: serverArgs(port, dir, extra...), out: filepath.Join(dir, "server.log")}
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
	<-s.done
	s.cmd = nil
}

// Running reports whether the server was started and not killed since.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
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
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
}

// errAddrInUse: the server could not listen on its port (another process
// took it between freePort and the server's bind); try other ports.
var errAddrInUse = errors.New("address already in use")

// start starts the process (s.mu held, s.cmd nil) and waits until it
// answers PING, or exits, or 10 s pass. It reports failures as errors, not
// through t, so that engines may start several servers at once.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	if s.out != "" {
		f, err := os.OpenFile(s.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("redis-server output file: %w", err)
		}
		defer f.Close() // the child has its own copy once started
		cmd.Stdout, cmd.Stderr = f, f
	}
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The process that answers must be this one: another server may
		// hold the port, and this one is then about to exit.
		pid, err := serverPID(s.URL())
		if err == nil && pid == cmd.Process.Pid {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("another process (pid %d) answers on %s", pid, s.Addr())
		}
		select {
		case <-done:
			s.cmd = nil
			out := s.output()
			if strings.Contains(out, "ddress already in use") {
				return fmt.Errorf("redis-server on %s: %w", s.Addr(), errAddrInUse)
			}
			return fmt.Errorf("redis-server on %s exited at start (%s): %s", s.Addr(), cmd.ProcessState, out)
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("redis-server on %s does not answer: %v; its output: %s", s.Addr(), err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverPID asks the Redis at u for its process id (INFO server).
func serverPID(u string) (int, error) {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return 0, err
	}
	opt.DialTimeout, opt.MaxRetries = 300*time.Millisecond, -1
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(infoFields(info)["process_id"])
	if err != nil {
		return 0, fmt.Errorf("INFO server has no process_id: %w", err)
	}
	return pid, nil
}

// output is the end of what the server wrote, for an error message.
func (s *Server) output() string {
	if s.out == "" {
		return "(not kept)"
	}
	b, err := os.ReadFile(s.out)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return strings.TrimSpace(string(b))
}
