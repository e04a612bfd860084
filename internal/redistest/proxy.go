package redistest

import (
	"bytes"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Proxy is a TCP proxy in front of a Redis that a test can make misbehave
// the way a network does: lose the reply to a command that Redis still
// applies (DropReplyAfter), or cut the clients off as a partition would
// (Block). It reads the commands clients send (RESP arrays of bulk
// strings, as go-redis writes them, RESP2 or RESP3 alike; replies are
// passed through unread), so a test can pick a command by its name or
// arguments, and count them.
//
// go-redis sends one command (or one pipeline) at a time on a connection
// and waits for its reply, so dropping everything the server sends on a
// connection from a command on drops exactly that command's reply.
type Proxy struct {
	t      testing.TB
	target string // host:port of the Redis
	url    string // the Redis URL with the proxy's address
	ln     net.Listener
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	blocked bool
	drops   []*drop
	conns   map[*proxyConn]bool
	seen    [][]string
	stats   ProxyStats
}

// ProxyStats counts what a Proxy did.
type ProxyStats struct {
	// Conns is the connections accepted and passed on to Redis.
	Conns int
	// Refused is the connections closed at once because the proxy was blocked.
	Refused int
	// Commands is the commands passed on to Redis, HELLO and the like included.
	Commands int
	// Dropped is the commands whose replies were dropped (DropReplyAfter).
	Dropped int
	// Lost is the chunks of bytes dropped because the proxy was blocked,
	// in either direction.
	Lost int
}

type drop struct {
	match func(cmd []string) bool
	fired chan struct{}
	block bool // block the proxy once the command has gone out
}

// proxyConn is one client connection and its connection to Redis.
type proxyConn struct {
	client, server net.Conn
	// Under Proxy.mu:
	dropping bool // the server's bytes are dropped from now on
	frozen   bool // nothing passes; closed at Unblock
	// inMulti: a MULTI was sent and its EXEC (or DISCARD) not yet.
	inMulti bool
	// atExec are the drops that matched a command queued in the open
	// MULTI: they fire (and block) with the EXEC that applies it.
	atExec []*drop
}

// NewProxy starts a proxy in front of the Redis at redisURL (e.g. a
// Redis's URL from New, or a Server's) on a free loopback port. Its URL
// is redisURL with the proxy's address. It stops when t ends.
func NewProxy(t testing.TB, redisURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil || u.Host == "" {
		t.Fatalf("redistest: proxy: %q is not a redis:// URL with a host", redisURL)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "6379")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy: listen: %v", err)
	}
	u.Host = ln.Addr().String()
	p := &Proxy{t: t, target: target, url: u.String(), ln: ln, conns: map[*proxyConn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the Redis URL through the proxy: the URL NewProxy was given,
// with the proxy's address.
func (p *Proxy) URL() string { return p.url }

// DropReplyAfter arms a one-shot fault: the next command that match
// accepts (its name as the client wrote it — go-redis writes "evalsha" —
// then its arguments) is passed on to
// Redis, which applies it, but from then on nothing Redis sends on that
// connection reaches the client: the client waits for a reply that never
// comes, times out, and closes the connection, which the proxy then
// closes too. The returned channel is closed once the command has been
// passed on. Scripts travel as EVALSHA (then EVAL after NOSCRIPT), so
// matching a key name or a value among the arguments is the practical way
// to pick one.
//
// A command sent inside MULTI is applied by the EXEC that ends the
// transaction: the replies are dropped from the matched command on, and
// the channel is closed once that EXEC (or DISCARD) has been passed on.
func (p *Proxy) DropReplyAfter(match func(cmd []string) bool) <-chan struct{} {
	return p.addDrop(&drop{match: match, fired: make(chan struct{})})
}

// DropReplyAfterAndBlock is DropReplyAfter and then Block, in one step:
// the proxy blocks as the matched command is passed on (after the EXEC,
// in a transaction), so nothing that any client sends after it reaches
// Redis until Unblock. The client gets no reply, and cannot read back
// what the command did either: a write's outcome stays unclear for as
// long as the test wants, with no race between the drop and a Block
// called when the channel is closed. Commands the client wrote together
// with the matched one (a pipeline in one write) go on with it.
func (p *Proxy) DropReplyAfterAndBlock(match func(cmd []string) bool) <-chan struct{} {
	return p.addDrop(&drop{match: match, fired: make(chan struct{}), block: true})
}

func (p *Proxy) addDrop(d *drop) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drops = append(p.drops, d)
	return d.fired
}

// Block cuts the clients off, as a network partition would: a new
// connection is closed as soon as it is accepted, and nothing passes on
// the open ones any more, in either direction — what is sent meanwhile is
// lost, so a command sent while blocked is never applied. Unblock ends it.
func (p *Proxy) Block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.block()
}

// block is Block, under p.mu.
func (p *Proxy) block() {
	p.blocked = true
	for c := range p.conns {
		c.frozen = true
	}
}

// Unblock ends a Block: new connections pass again, and the connections
// that were frozen are closed (bytes were lost on them), so clients
// reconnect.
func (p *Proxy) Unblock() {
	p.mu.Lock()
	p.blocked = false
	var frozen []*proxyConn
	for c := range p.conns {
		if c.frozen {
			frozen = append(frozen, c)
		}
	}
	p.mu.Unlock()
	for _, c := range frozen {
		c.close()
	}
}

// Stats returns the counts so far.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Count returns how many of the commands passed on so far match accepts.
func (p *Proxy) Count(match func(cmd []string) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.seen {
		if match(c) {
			n++
		}
	}
	return n
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.blocked || p.closed {
			p.stats.Refused++
			p.mu.Unlock()
			_ = client.Close()
			continue
		}
		p.mu.Unlock()
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			p.t.Logf("redistest: proxy: dial %s: %v", p.target, err)
			_ = client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.close()
			return
		}
		p.conns[c] = true
		p.stats.Conns++
		p.mu.Unlock()
		p.wg.Go(func() { p.up(c) })
		p.wg.Go(func() { p.down(c) })
	}
}

func (c *proxyConn) close() {
	_ = c.client.Close()
	_ = c.server.Close()
}

// up passes what the client sends on to Redis, reading the commands on
// the way.
func (p *Proxy) up(c *proxyConn) {
	defer func() {
		c.close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	var pending []byte // the start of a command not read whole yet
	parsing := true    // false after input that is not RESP: passed on unread
	buf := make([]byte, 32<<10)
	for {
		n, err := c.client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			var cmds [][]string
			if parsing {
				pending = append(pending, chunk...)
				var perr error
				cmds, pending, perr = parseCommands(pending)
				if perr != nil {
					p.t.Logf("redistest: proxy: %v: passing the rest of this connection on unread", perr)
					parsing, pending = false, nil
				}
			}
			pass, fired := p.passUp(c, cmds)
			if !pass {
				continue
			}
			_, werr := c.server.Write(chunk)
			for _, d := range fired {
				close(d.fired)
			}
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// passUp reports whether the bytes that carried cmds may go on to Redis
// (not while frozen); if so it records cmds and returns the drops they
// set off, to be told once the bytes are sent. When one of them blocks,
// the proxy is blocked before it returns: these bytes still go on, and
// nothing after them.
func (p *Proxy) passUp(c *proxyConn, cmds [][]string) (pass bool, fired []*drop) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.frozen {
		p.stats.Lost++
		return false, nil
	}
	block := false
	for _, cmd := range cmds {
		p.seen = append(p.seen, cmd)
		p.stats.Commands++
		name := ""
		if len(cmd) > 0 {
			name = strings.ToLower(cmd[0])
		}
		if name == "multi" {
			c.inMulti = true
		}
		for i, d := range p.drops {
			if d.match(cmd) {
				p.drops = append(p.drops[:i:i], p.drops[i+1:]...)
				c.dropping = true
				p.stats.Dropped++
				if c.inMulti && name != "multi" {
					c.atExec = append(c.atExec, d)
				} else {
					fired = append(fired, d)
				}
				break
			}
		}
		if c.inMulti && (name == "exec" || name == "discard") {
			c.inMulti = false
			fired = append(fired, c.atExec...)
			c.atExec = nil
		}
	}
	for _, d := range fired {
		block = block || d.block
	}
	if block {
		p.block()
	}
	return true, fired
}

// down passes what Redis sends back to the client, unless the connection
// drops replies or is frozen.
func (p *Proxy) down(c *proxyConn) {
	defer c.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			pass := !c.dropping && !c.frozen
			if c.frozen && !c.dropping {
				p.stats.Lost++
			}
			p.mu.Unlock()
			if pass {
				if _, werr := c.client.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

var errNotRESP = errors.New("not a RESP command")

// parseCommands reads the whole commands at the start of b, and returns
// them and the rest of b (the start of a command not read whole yet).
func parseCommands(b []byte) ([][]string, []byte, error) {
	var out [][]string
	for len(b) > 0 {
		cmd, n, err := parseCommand(b)
		if err != nil {
			return out, nil, err
		}
		if n == 0 {
			break
		}
		out = append(out, cmd)
		b = b[n:]
	}
	return out, append([]byte(nil), b...), nil
}

// parseCommand reads one command from the start of b: a RESP array of
// bulk strings, or an inline command (words on one line, as typed into
// telnet). n is 0 when b does not hold a whole command yet.
func parseCommand(b []byte) (cmd []string, n int, err error) {
	if b[0] != '*' {
		line, rest, ok := bytes.Cut(b, []byte("\r\n"))
		if !ok {
			return nil, 0, nil
		}
		for _, w := range bytes.Fields(line) {
			cmd = append(cmd, string(w))
		}
		return cmd, len(b) - len(rest), nil
	}
	count, i, err := resplen(b, 0, '*')
	if err != nil || i == 0 {
		return nil, 0, err
	}
	cmd = make([]string, 0, count)
	for range count {
		if i >= len(b) {
			return nil, 0, nil
		}
		size, j, err := resplen(b, i, '$')
		if err != nil || j == 0 {
			return nil, 0, err
		}
		if size < 0 {
			return nil, 0, errNotRESP
		}
		if j+size+2 > len(b) {
			return nil, 0, nil
		}
		if b[j+size] != '\r' || b[j+size+1] != '\n' {
			return nil, 0, errNotRESP
		}
		cmd = append(cmd, string(b[j:j+size]))
		i = j + size + 2
	}
	return cmd, i, nil
}

// resplen reads "<kind><number>\r\n" at b[i:] and returns the number and
// the index after it; the index is 0 when the line is not whole yet.
func resplen(b []byte, i int, kind byte) (int, int, error) {
	if b[i] != kind {
		return 0, 0, errNotRESP
	}
	end := bytes.Index(b[i:], []byte("\r\n"))
	if end < 0 {
		if len(b)-i > 32 {
			return 0, 0, errNotRESP
		}
		return 0, 0, nil
	}
	v, err := strconv.Atoi(string(b[i+1 : i+end]))
	if err != nil || v > 512<<20 {
		return 0, 0, errNotRESP
	}
	return v, i + end + 2, nil
}

// Client returns a go-redis client that goes through the proxy, closed
// when t ends. It honours context deadlines (ContextTimeoutEnabled, as
// trainbot's clients do); change, when not nil, adjusts the options first
// (e.g. MaxRetries -1, so that go-redis never sends a write again itself).
func (p *Proxy) Client(t testing.TB, change func(*redis.Options)) *redis.Client {
	t.Helper()
	return newClient(t, p.URL(), change)
}
