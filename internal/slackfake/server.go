package slackfake

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Default identities and tokens used when Options leaves them empty.
const (
	DefaultBotToken  = "xoxb-slackfake-bot"
	DefaultAppToken  = "xapp-1-slackfake-app"
	DefaultTeamID    = "T0TEAM0001"
	DefaultTeamName  = "trainbot-test"
	DefaultAppID     = "A1"
	DefaultBotUserID = "U0B"
	DefaultBotID     = "B0TRAINBOT"
	DefaultBotName   = "trainbot"
)

// DefaultPingInterval is how often the fake PINGs a Socket Mode client when
// Options.PingInterval is zero. Slack PINGs at least every 10 s; slack-go
// reconnects when it sees none within its OptionPingInterval (30 s).
const DefaultPingInterval = 5 * time.Second

// ErrClosed is returned by waits and sends once the server is closed.
var ErrClosed = errors.New("slackfake: server closed")

// Channel is a conversation the fake knows. Posting to a channel it does not
// know answers channel_not_found.
type Channel struct {
	// ID is the channel ID, e.g. "C0CHANNEL1".
	ID string
	// Name is the channel name without '#', e.g. "rel".
	Name string
	// NotMember makes chat.postMessage answer not_in_channel, as Slack does
	// when the bot was not invited.
	NotMember bool
}

// User is a workspace member the fake knows, returned by users.info.
type User struct {
	// ID is the user ID, e.g. "U01".
	ID string
	// Name is the handle, e.g. "ana".
	Name string
	// RealName is the full name.
	RealName string
	// DisplayName is the name the user chose in their profile; empty, as
	// in Slack, when they chose none (then Slack shows RealName).
	DisplayName string
	// Email goes into the profile.
	Email string
	// TZ is an IANA zone name such as "Europe/Paris".
	TZ string
	// IsBot marks bot users.
	IsBot bool
	// Deleted marks deactivated users.
	Deleted bool
}

// Options configures a Server. The zero value works: defaults are the
// Default* constants, no channels, users or user groups.
type Options struct {
	// BotToken is the xoxb token the Web API methods accept in the form body.
	BotToken string
	// AppToken is the xapp token apps.connections.open accepts as Bearer.
	AppToken string
	// TeamID, TeamName, AppID, BotUserID, BotID and BotName shape auth.test
	// and the payloads the fake sends.
	TeamID, TeamName, AppID, BotUserID, BotID, BotName string
	// PingInterval is the period of WebSocket PINGs after the first one,
	// which follows hello at once. Zero means DefaultPingInterval.
	PingInterval time.Duration
	// DisconnectGrace is how long the fake keeps a socket open after sending
	// a disconnect frame before closing it itself (slack-go closes it first).
	// Zero means one second.
	DisconnectGrace time.Duration
	// Channels, Users and UserGroups (ID → member IDs) seed the workspace.
	Channels   []Channel
	Users      []User
	UserGroups map[string][]string
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// ResponseURLBase, when set, is where the response_urls of envelopes
	// point instead of the fake itself, e.g. a sink in another process
	// that a benchmark uses so that replies do not load the fake. Posts
	// there are not recorded.
	ResponseURLBase string
}

// Server is a fake of Slack's Web API, Socket Mode and response_url
// endpoints. All methods are safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	srv      *httptest.Server
	upgrader websocket.Upgrader
	wg       sync.WaitGroup // goroutines serving sockets
	start    time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool

	// Socket Mode, see socket.go and envelope.go.
	tickets     map[string]bool
	conns       []*wsConn
	pingsPaused bool
	deliveries  map[string][]*delivery
	acks        []Ack
	envSeq      int

	// Web API, see webapi.go, faults.go and messages.go.
	calls     map[string]int
	faults    map[string][]*faultRule
	holds     map[string]*hold // see hold.go
	held      map[string]int   // calls waiting on a hold, by method
	channels  map[string]Channel
	users     map[string]User
	groups    map[string][]string
	messages  []*Message
	byTS      map[string]*Message // channel + "/" + ts
	tsSeq     int64
	responses map[string]*responseURL // by path
	respSeq   int

	stats Stats
	// contractT, set by NewForTest once the server already serves, is the
	// test Web API exchanges are checked for against Slack's description.
	contractT atomic.Pointer[testing.TB]
}

// New starts a fake Slack server. Close it when done.
func New(opts Options) *Server {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&opts.BotToken, DefaultBotToken)
	def(&opts.AppToken, DefaultAppToken)
	def(&opts.TeamID, DefaultTeamID)
	def(&opts.TeamName, DefaultTeamName)
	def(&opts.AppID, DefaultAppID)
	def(&opts.BotUserID, DefaultBotUserID)
	def(&opts.BotID, DefaultBotID)
	def(&opts.BotName, DefaultBotName)
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.DisconnectGrace <= 0 {
		opts.DisconnectGrace = time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:       opts,
		log:        log,
		start:      time.Now(),
		upgrader:   websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		changed:    make(chan struct{}),
		tickets:    map[string]bool{},
		deliveries: map[string][]*delivery{},
		calls:      map[string]int{},
		faults:     map[string][]*faultRule{},
		holds:      map[string]*hold{},
		held:       map[string]int{},
		channels:   map[string]Channel{},
		users:      map[string]User{},
		groups:     map[string][]string{},
		byTS:       map[string]*Message{},
		responses:  map[string]*responseURL{},
		stats:      Stats{Calls: map[string]int{}},
	}
	for _, c := range opts.Channels {
		s.channels[c.ID] = c
	}
	for _, u := range opts.Users {
		s.users[u.ID] = u
	}
	for g, us := range opts.UserGroups {
		s.groups[g] = append([]string(nil), us...)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPIChecked)
	mux.HandleFunc("/link/", s.serveSocket)
	mux.HandleFunc("/response/", s.serveResponseURL)
	s.srv = httptest.NewServer(mux)
	return s
}

// NewForTest starts a fake Slack server that is closed when t ends.
func NewForTest(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if _, bench := t.(*testing.B); !bench {
		// A benchmark measures trainbot, not the checker (checking a
		// 500-member group's answer costs more than serving it); tests
		// check the same exchanges.
		s.contractT.Store(&t)
		s.checkIDs("Options", optionIDs(s.opts))
	}
	t.Cleanup(s.Close)
	return s
}

// Close drops every socket, stops the HTTP server and waits for the fake's
// goroutines. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.releaseHolds()
	conns := append([]*wsConn(nil), s.conns...)
	s.notify()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.srv.Close()
	s.wg.Wait()
}

// URL is the base URL of the server, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the value for slack.OptionAPIURL: the Web API base, ending in '/'.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// BotToken is the xoxb token the Web API accepts.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken is the xapp token apps.connections.open accepts.
func (s *Server) AppToken() string { return s.opts.AppToken }

// BotUserID is the bot's user ID, the author of every message it posts.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// SetUserGroup sets the members of user group id (e.g. "S01"), creating it.
func (s *Server) SetUserGroup(id string, members ...string) {
	s.checkIDs("SetUserGroup", groupIDs(id, members))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string(nil), members...)
	s.notify()
}

// Stats are counters for tests and benchmarks. Calls counts every Web API
// request by method, including the ones a fault answered.
type Stats struct {
	// Calls counts Web API requests (and "response_url" posts) by method.
	Calls map[string]int
	// ConnectionsOpened counts successful apps.connections.open calls.
	ConnectionsOpened int
	// Sockets counts accepted WebSocket connections; LiveSockets those open.
	Sockets, LiveSockets int
	// EnvelopesSent counts envelopes written, redeliveries included.
	EnvelopesSent int
	// Acks counts acks read; UnmatchedAcks those that matched no pending
	// delivery (duplicates or unknown envelope IDs).
	Acks, UnmatchedAcks int
	// Pings and Pongs count WebSocket control frames sent and received.
	Pings, Pongs int
	// Disconnects counts disconnect frames sent.
	Disconnects int
	// Messages counts stored messages (posts, ephemerals, ack and
	// response_url replies); Updates counts edits.
	Messages, Updates int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

func (s *Server) statsLocked() Stats {
	st := s.stats
	st.Calls = make(map[string]int, len(s.stats.Calls))
	for k, v := range s.stats.Calls {
		st.Calls[k] = v
	}
	st.LiveSockets = 0
	for _, c := range s.conns {
		if c.alive {
			st.LiveSockets++
		}
	}
	return st
}

// WaitStats blocks until match accepts the counters, and returns them.
// match runs without the fake's lock held, so it may call the fake.
func (s *Server) WaitStats(ctx context.Context, match func(Stats) bool) (Stats, error) {
	return waitMatch(ctx, s, func() []Stats { return []Stats{s.statsLocked()} }, match)
}

// waitMatch waits until match accepts one of the values snapshot returns,
// and returns the first it accepts. snapshot runs with s.mu held and must
// copy; match runs without it, so a caller's match may call the fake.
func waitMatch[T any](ctx context.Context, s *Server, snapshot func() []T, match func(T) bool) (T, error) {
	var zero T
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return zero, ErrClosed
		}
		items := snapshot()
		ch := s.changed
		s.mu.Unlock()
		for _, it := range items {
			if match(it) {
				return it, nil
			}
		}
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-ch:
		}
	}
}

// Calls returns how many times a Web API method was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.Calls[method]
}

// notify wakes every waiter. The caller holds s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond, called with s.mu held, reports true; or ctx
// ends; or the server closes.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// newTS returns a fresh, strictly increasing Slack timestamp. The caller
// holds s.mu.
func (s *Server) newTS() string {
	s.tsSeq++
	sec := s.start.Unix() + s.tsSeq/1_000_000
	return fmt.Sprintf("%d.%06d", sec, s.tsSeq%1_000_000)
}

// newUUID returns a random RFC 4122 version 4 UUID, the shape of Slack's
// envelope IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
