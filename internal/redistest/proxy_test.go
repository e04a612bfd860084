package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
)

// proxied returns a Redis for t, a proxy in front of it, and a client
// through the proxy that does not retry (so each failure is seen as it
// happens) and gives up on a reply after 300ms.
func proxied(t *testing.T) (*redistest.Redis, *redistest.Proxy, *redis.Client) {
	t.Helper()
	r := redistest.New(t)
	p := redistest.NewProxy(t, r.URL)
	return r, p, p.Client(t, func(o *redis.Options) {
		o.MaxRetries, o.ReadTimeout, o.DialTimeout = -1, 300*time.Millisecond, 300*time.Millisecond
	})
}

func isCmd(name string, args ...string) func([]string) bool {
	return func(cmd []string) bool {
		return len(cmd) > 0 && cmd[0] == name && slices.Equal(cmd[1:min(len(cmd), 1+len(args))], args)
	}
}

func TestProxyPassesCommandsThrough(t *testing.T) {
	t.Parallel()
	r, p, c := proxied(t)
	defer c.Close()
	ctx := t.Context()
	key := r.Prefix + "k"
	if err := c.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatalf("set through the proxy: %v", err)
	}
	if v, err := c.Get(ctx, key).Result(); err != nil || v != "v" {
		t.Fatalf("get through the proxy: %q %v", v, err)
	}
	if n := p.Count(isCmd("set", key, "v")); n != 1 {
		t.Errorf("Count(set %s v) = %d, want 1", key, n)
	}
	if s := p.Stats(); s.Conns != 1 || s.Commands < 2 || s.Dropped != 0 || s.Refused != 0 {
		t.Errorf("stats %+v: want one connection, at least 2 commands, nothing dropped or refused", s)
	}
}

// TestProxyDropReplyAfter: the matched command is applied once, its
// reply never comes, and the next command gets a new connection that works.
func TestProxyDropReplyAfter(t *testing.T) {
	t.Parallel()
	r, p, c := proxied(t)
	defer c.Close()
	ctx := t.Context()
	key := r.Prefix + "n"
	fired := p.DropReplyAfter(isCmd("incr", key))

	start := time.Now()
	err := c.Incr(ctx, key).Err()
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("INCR whose reply is dropped: got %v, want a timeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the client waited %s: want about its 300ms read timeout", took)
	}
	select {
	case <-fired:
	default:
		t.Error("the drop's channel is not closed after its command went out")
	}
	if v, err := r.Client.Get(ctx, key).Int(); err != nil || v != 1 {
		t.Fatalf("the counter in Redis: %d %v, want 1: the command was applied once", v, err)
	}
	// One-shot: the same command passes now, on a new connection.
	if v, err := c.Incr(ctx, key).Result(); err != nil || v != 2 {
		t.Fatalf("INCR after the drop: %d %v, want 2", v, err)
	}
	if s := p.Stats(); s.Dropped != 1 || s.Conns != 2 {
		t.Errorf("stats %+v: want one reply dropped and two connections", s)
	}
}

// TestProxyBlock: while blocked nothing reaches Redis, neither on a new
// connection nor on an open one; after Unblock clients work again.
func TestProxyBlock(t *testing.T) {
	t.Parallel()
	r, p, c := proxied(t)
	defer c.Close()
	ctx := t.Context()
	key := r.Prefix + "k"
	if err := c.Ping(ctx).Err(); err != nil { // one open connection
		t.Fatal(err)
	}
	p.Block()
	if err := c.Set(ctx, key, "on an open connection", 0).Err(); err == nil {
		t.Fatal("SET while blocked: no error")
	}
	other := newClient(t, p.URL())
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := other.Set(short, key, "on a new connection", 0).Err(); err == nil {
		t.Fatal("SET on a new connection while blocked: no error")
	}
	if n, err := r.Client.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("the key exists (%d, %v): a command sent while blocked reached Redis", n, err)
	}
	p.Unblock()
	if err := c.Set(ctx, key, "after", 0).Err(); err != nil {
		t.Fatalf("SET after Unblock: %v", err)
	}
	if s := p.Stats(); s.Refused == 0 || s.Lost == 0 {
		t.Errorf("stats %+v: want refused connections and lost bytes", s)
	}
}

// TestProxyDropReplyAfterAndBlock: the matched command is applied, its
// reply never comes, and the proxy is blocked from that command on,
// without a Block call: nothing sent after it reaches Redis, on any
// connection, until Unblock.
func TestProxyDropReplyAfterAndBlock(t *testing.T) {
	t.Parallel()
	r, p, c := proxied(t)
	defer c.Close()
	ctx := t.Context()
	key, after := r.Prefix+"n", r.Prefix+"after"
	if err := c.Ping(ctx).Err(); err != nil { // an open connection besides the one the INCR takes
		t.Fatal(err)
	}
	fired := p.DropReplyAfterAndBlock(isCmd("incr", key))

	done := make(chan error, 1)
	go func() { done <- c.Incr(ctx, key).Err() }()
	<-fired
	// Sent after the INCR, on new connections and on open ones: lost.
	other := newClient(t, p.URL())
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := other.Set(short, after, "x", 0).Err(); err == nil {
		t.Error("SET on a new connection after the dropped command: no error")
	}
	var ne interface{ Timeout() bool }
	if err := <-done; !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("INCR whose reply is dropped: got %v, want a timeout", err)
	}
	if err := c.Get(ctx, key).Err(); err == nil {
		t.Error("reading the counter back while blocked: no error")
	}
	if v, err := r.Client.Get(ctx, key).Int(); err != nil || v != 1 {
		t.Fatalf("the counter in Redis: %d %v, want 1: the command was applied once", v, err)
	}
	if n, err := r.Client.Exists(ctx, after).Result(); err != nil || n != 0 {
		t.Fatalf("the key set after the drop exists (%d, %v): the proxy was not blocked", n, err)
	}
	p.Unblock()
	if v, err := c.Incr(ctx, key).Result(); err != nil || v != 2 {
		t.Fatalf("INCR after Unblock: %d %v, want 2", v, err)
	}
	if s := p.Stats(); s.Dropped != 1 || s.Refused == 0 {
		t.Errorf("stats %+v: want one reply dropped and refused connections", s)
	}
}

// TestProxyDropInTransaction: a command matched inside MULTI is applied
// by the EXEC that ends the transaction, so the fault waits for it: the
// commands queued after the matched one still reach Redis, the channel
// is closed once the EXEC has gone on, and only then does the proxy
// block. Each command is written on its own (go-redis writes a whole
// transaction at once), so the proxy reads them one at a time.
func TestProxyDropInTransaction(t *testing.T) {
	t.Parallel()
	for _, block := range []bool{false, true} {
		name := "drop"
		if block {
			name = "drop and block"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, p, c := proxied(t)
			defer c.Close()
			ctx := t.Context()
			a, b := r.Prefix+"a", r.Prefix+"b"
			drop := p.DropReplyAfter
			if block {
				drop = p.DropReplyAfterAndBlock
			}
			fired := drop(isCmd("set", a, "1"))

			conn, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			send := func(args ...string) {
				t.Helper()
				cmd := fmt.Sprintf("*%d\r\n", len(args))
				for _, a := range args {
					cmd += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
				}
				if _, err := conn.Write([]byte(cmd)); err != nil {
					t.Fatal(err)
				}
				waitSeen(t, p, args...)
			}
			send("multi")
			send("set", a, "1")
			send("set", b, "2") // queued after the match: not lost
			select {
			case <-fired:
				t.Fatal("the drop fired before the EXEC that applies its command")
			default:
			}
			send("exec")
			<-fired
			for k, want := range map[string]string{a: "1", b: "2"} {
				if v, err := r.Client.Get(ctx, k).Result(); err != nil || v != want {
					t.Errorf("%s in Redis: %q %v, want %q: the transaction was applied", k, v, err, want)
				}
			}
			err = c.Get(ctx, a).Err()
			if block && err == nil {
				t.Error("a read after the transaction: no error, want the proxy blocked")
			}
			if !block && err != nil {
				t.Errorf("a read after the transaction: %v, want it to pass", err)
			}
		})
	}
}

// waitSeen waits until the proxy has passed on the command cmd (its name
// in any case, then its arguments).
func waitSeen(t *testing.T, p *redistest.Proxy, cmd ...string) {
	t.Helper()
	match := func(c []string) bool {
		return len(c) == len(cmd) && strings.EqualFold(c[0], cmd[0]) && slices.Equal(c[1:], cmd[1:])
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Count(match) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not pass %q on within 5s", cmd)
		}
		time.Sleep(time.Millisecond)
	}
}
