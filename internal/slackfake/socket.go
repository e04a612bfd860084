package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn is one Socket Mode WebSocket connection. Fields other than ws, id,
// wmu and done are guarded by Server.mu.
type wsConn struct {
	id        int
	ws        *websocket.Conn
	wmu       sync.Mutex // serialises data frames; control frames may interleave
	done      chan struct{}
	closeOnce sync.Once

	alive    bool
	draining bool // sent a disconnect: takes no more envelopes
	pings    int
	pongs    int
	lastPong time.Time
}

func (c *wsConn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// writeJSON writes one text frame holding v.
func (c *wsConn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// serveConnectionsOpen answers apps.connections.open: a JSON POST with the
// app-level token as Bearer, returning a single-use ws:// URL.
func (s *Server) serveConnectionsOpen(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, _ := strings.CutPrefix(auth, "Bearer ")
	switch {
	case auth == "" || tok == "":
		writeAPIError(w, "not_authed", nil)
		return
	case tok == s.opts.BotToken:
		writeAPIError(w, "not_allowed_token_type", nil)
		return
	case tok != s.opts.AppToken:
		writeAPIError(w, "invalid_auth", nil)
		return
	}
	ticket := newUUID()
	s.mu.Lock()
	s.tickets[ticket] = true
	s.stats.ConnectionsOpened++
	s.notify()
	s.mu.Unlock()
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + s.opts.AppID
	writeJSON(w, map[string]any{"ok": true, "url": u})
}

// serveSocket upgrades a ticketed request to a Socket Mode connection, sends
// hello, PINGs, and reads acks until the connection ends.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.tickets[ticket] && !s.closed
	delete(s.tickets, ticket)
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("slackfake: upgrade failed", "err", err)
		return
	}
	c := &wsConn{ws: ws, done: make(chan struct{})}
	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		c.pongs++
		c.lastPong = time.Now()
		s.stats.Pongs++
		s.notify()
		s.mu.Unlock()
		return nil
	})

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.stats.Sockets++
	c.id = s.stats.Sockets
	live := 1
	for _, o := range s.conns {
		if o.alive {
			live++
		}
	}
	s.conns = append(s.conns, c)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	hello := map[string]any{
		"type":            "hello",
		"num_connections": live,
		"debug_info": map[string]any{
			"host":                        "slackfake",
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": s.opts.AppID},
	}
	if err := c.writeJSON(hello); err != nil {
		c.close()
		return
	}
	// Live only after hello, so envelopes never precede it.
	s.mu.Lock()
	c.alive = true
	s.notify()
	s.mu.Unlock()
	s.log.Debug("slackfake: socket connected", "conn", c.id)

	s.wg.Add(1)
	go s.pingLoop(c)
	s.readLoop(c)
}

// pingLoop PINGs c right away and then every PingInterval.
func (s *Server) pingLoop(c *wsConn) {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		s.mu.Lock()
		paused := s.pingsPaused
		s.mu.Unlock()
		if !paused {
			err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), time.Now().Add(5*time.Second))
			if err != nil {
				return
			}
			s.mu.Lock()
			c.pings++
			s.stats.Pings++
			s.notify()
			s.mu.Unlock()
		}
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// readLoop reads acks from c until it fails, then marks c dead.
func (s *Server) readLoop(c *wsConn) {
	defer func() {
		c.close()
		s.mu.Lock()
		c.alive = false
		s.notify()
		s.mu.Unlock()
		s.log.Debug("slackfake: socket closed", "conn", c.id)
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		s.receiveAck(c, data, time.Now())
	}
}

// liveConn returns the newest live connection not told to disconnect, or
// nil. The caller holds s.mu.
func (s *Server) liveConn() *wsConn {
	for i := len(s.conns) - 1; i >= 0; i-- {
		if s.conns[i].alive && !s.conns[i].draining {
			return s.conns[i]
		}
	}
	return nil
}

// WaitConnected blocks until a client is connected and has been sent hello.
func (s *Server) WaitConnected(ctx context.Context) error {
	return s.waitFor(ctx, func() bool { return s.liveConn() != nil })
}

// WaitSockets blocks until at least n WebSocket connections have been
// accepted in total and one of them is live: after a disconnect, wait for
// Stats().Sockets+1 to see the client reconnect.
func (s *Server) WaitSockets(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.stats.Sockets >= n && s.liveConn() != nil })
}

// WaitPongs blocks until the client has answered at least n PINGs in total.
func (s *Server) WaitPongs(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.stats.Pongs >= n })
}

// PausePings stops (true) or resumes (false) PINGs on every connection, so a
// test can drive slack-go's ping timeout.
func (s *Server) PausePings(paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingsPaused = paused
}

// Disconnect sends a disconnect frame with reason ("warning",
// "refresh_requested", "link_disabled") on the live connection, waiting for
// one if none is, and closes that socket after Options.DisconnectGrace if the
// client has not closed it first. From then on envelopes go to other (new)
// connections only, as in Slack.
func (s *Server) Disconnect(ctx context.Context, reason string) error {
	c, err := s.waitLive(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	c.draining = true
	s.mu.Unlock()
	frame := map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": "slackfake"},
	}
	if err := c.writeJSON(frame); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.stats.Disconnects++
	s.notify()
	s.wg.Add(1) // under s.mu, so never after Close's Wait began
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(s.opts.DisconnectGrace)
		defer t.Stop()
		select {
		case <-t.C:
			c.close()
		case <-c.done:
		}
	}()
	return nil
}

// DropSocket closes the live connection abruptly, without a frame, as a
// network failure would. It reports whether there was one.
func (s *Server) DropSocket() bool {
	s.mu.Lock()
	c := s.liveConn()
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.close()
	return true
}

// waitLive waits for and returns the newest live connection.
func (s *Server) waitLive(ctx context.Context) (*wsConn, error) {
	var c *wsConn
	err := s.waitFor(ctx, func() bool {
		c = s.liveConn()
		return c != nil
	})
	if err != nil {
		return nil, errors.Join(errors.New("slackfake: no Socket Mode client connected"), err)
	}
	return c, nil
}
