package redistest

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestStartOnATakenPort: a server whose port another redis-server holds
// does not count as started because the other one answers.
func TestStartOnATakenPort(t *testing.T) {
	t.Parallel()
	a := StartServer(t)
	dir := t.TempDir()
	b := &Server{t: t, bin: a.bin, port: a.port, args: serverArgs(a.port, dir), out: filepath.Join(dir, "server.log")}
	b.mu.Lock()
	err := b.start()
	b.mu.Unlock()
	t.Cleanup(b.Kill)
	if !errors.Is(err, errAddrInUse) {
		t.Fatalf("start on %s, which another redis-server holds: got %v, want errAddrInUse", a.Addr(), err)
	}
}
