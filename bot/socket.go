// Package bot is trainbot's Slack adapter: it receives /train commands and
// button clicks over Socket Mode, acknowledges each at once, runs them on a
// bounded worker pool through a commands.Handler, and renders the replies
// as Block Kit. It also posts to the validators' channel (Announcer),
// expands user groups (Groups), serves /healthz, /readyz and /metrics, and
// runs the terminal console.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/trains"
)

// Store is what the bot needs of the state store: Claim to run each
// envelope once, Ping for readiness. A trains.Store is one.
type Store interface {
	// Claim takes key for ttl: true for the first caller. Errors wrap
	// trains.ErrUnavailable when the store cannot be reached, or
	// trains.ErrUnclear when it could not confirm the claim (it then gives
	// the key back by itself, as trains.Store.Claim says).
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Ping checks the store answers.
	Ping(ctx context.Context) error
}

// Defaults for the zero fields of Config.
const (
	DefaultWorkers        = 4
	DefaultQueue          = 64
	DefaultDedupeTTL      = time.Hour
	DefaultAckTimeout     = 2 * time.Second
	DefaultCommandTimeout = 5 * time.Minute
	DefaultReplyTimeout   = 15 * time.Second
	DefaultDrainTimeout   = 10 * time.Second
	DefaultStallAfter     = 50 * time.Millisecond
)

// Config tunes the bot. The zero value uses the Default* values.
type Config struct {
	// Workers is how many commands may run at once. One runs at a time
	// while commands are quick; another worker joins each time a queued
	// command has waited StallAfter behind busy ones (they wait on GitHub
	// or Slack), up to Workers; back to one when the pool is idle.
	Workers int
	// StallAfter is how long a queued command waits before the pool adds
	// a worker (DefaultStallAfter when zero).
	StallAfter time.Duration
	// Queue is how many acknowledged commands may wait for a worker; when
	// it is full, a new command is answered "trainbot is busy".
	Queue int
	// DedupeTTL is how long an envelope id is remembered, so that a
	// redelivery does nothing.
	DedupeTTL time.Duration
	// AckTimeout bounds handing an ack to the socket.
	AckTimeout time.Duration
	// CommandTimeout bounds one command, from the claim to the reply.
	CommandTimeout time.Duration
	// ReplyTimeout bounds sending a reply (response_url, then
	// chat.postEphemeral).
	ReplyTimeout time.Duration
	// DrainTimeout bounds how long Run waits for queued and running
	// commands when it stops; then their context is cancelled.
	DrainTimeout time.Duration
}

func (c Config) withDefaults() Config {
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	def(&c.DedupeTTL, DefaultDedupeTTL)
	def(&c.AckTimeout, DefaultAckTimeout)
	def(&c.CommandTimeout, DefaultCommandTimeout)
	def(&c.ReplyTimeout, DefaultReplyTimeout)
	def(&c.DrainTimeout, DefaultDrainTimeout)
	def(&c.StallAfter, DefaultStallAfter)
	return c
}

// Deps are the clients the bot uses; it builds none itself and holds no
// token. Socket, API, Handler and Store are required; Logger, Metrics and
// Clock may be nil (discarded logs, no metrics, the system clock).
type Deps struct {
	Socket  *socketmode.Client
	API     *slack.Client
	Handler commands.Handler
	Store   Store
	Logger  *slog.Logger
	Metrics *Metrics
	Clock   trains.Clock
}

// SlackStatus is the state of the Socket Mode connection, for /readyz.
type SlackStatus struct {
	// Connected is true between a hello (or slack-go's connected event)
	// and the next connection attempt, error or disconnect.
	Connected bool
	// Reason says why the bot is not connected; empty when it is.
	Reason string
	// LastEvent is when the last Socket Mode event arrived (zero: none yet).
	LastEvent time.Time
}

// Bot is the Socket Mode bot. Make it with New and start it with Run.
type Bot struct {
	cfg     Config
	sm      *socketmode.Client
	api     *slack.Client
	handler commands.Handler
	store   Store
	log     *slog.Logger
	metrics *Metrics
	clock   trains.Clock

	queue   chan job
	busySem chan struct{} // bounds the goroutines answering "busy"

	mu      sync.Mutex
	status  SlackStatus
	changed chan struct{} // closed and replaced when status changes
}

// New returns a bot on the given clients. It panics when a required
// dependency is missing: that is a wiring bug.
func New(cfg Config, deps Deps) *Bot {
	if deps.Socket == nil || deps.API == nil || deps.Handler == nil || deps.Store == nil {
		panic("bot.New: Socket, API, Handler and Store are required")
	}
	cfg = cfg.withDefaults()
	b := &Bot{
		cfg:     cfg,
		sm:      deps.Socket,
		api:     deps.API,
		handler: deps.Handler,
		store:   deps.Store,
		log:     deps.Logger,
		metrics: deps.Metrics,
		clock:   deps.Clock,
		// The pool's dispatcher holds one waiting command itself.
		queue:   make(chan job, cfg.Queue-1),
		busySem: make(chan struct{}, cfg.Workers),
		status:  SlackStatus{Reason: "not connected to Slack yet"},
		changed: make(chan struct{}),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.clock == nil {
		b.clock = trains.SystemClock{}
	}
	return b
}

// SlackStatus returns the state of the Slack connection.
func (b *Bot) SlackStatus() SlackStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

func (b *Bot) setStatus(connected bool, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status.Connected != connected {
		if connected {
			b.log.Info("connected to Slack")
		} else {
			b.log.Warn("not connected to Slack", "reason", reason)
		}
	}
	if b.status.Connected != connected || b.status.Reason != reason {
		close(b.changed)
		b.changed = make(chan struct{})
	}
	b.status.Connected, b.status.Reason = connected, reason
	b.metrics.socketConnected(connected)
}

// WaitConnected blocks until the bot is connected to Slack, or ctx ends.
func (b *Bot) WaitConnected(ctx context.Context) error {
	for {
		b.mu.Lock()
		ok, ch := b.status.Connected, b.changed
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the Slack connection: %w", ctx.Err())
		case <-ch:
		}
	}
}

func (b *Bot) touch() {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status.LastEvent = now
}

// Run connects to Slack (it runs the Socket Mode client's RunContext
// itself: do not run it elsewhere), acknowledges every envelope at once
// and runs commands on the worker pool, until ctx ends. It then stops
// taking envelopes and waits up to DrainTimeout for queued and running
// commands before cancelling them, and returns nil. It returns an error
// when the Socket Mode client gives up (e.g. Slack refused the app token).
func (b *Bot) Run(ctx context.Context) error {
	// Work goes on after ctx ends, until the drain bound.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var workers sync.WaitGroup
	workers.Go(func() { b.runPool(workCtx) })

	sockCtx, stopSock := context.WithCancel(ctx)
	defer stopSock()
	sockDone := make(chan error, 1)
	go func() { sockDone <- b.sm.RunContext(sockCtx) }()

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-sockDone:
			sockDone <- err // seen below
			if ctx.Err() == nil {
				b.setStatus(false, "the Socket Mode client stopped: "+errText(err))
				runErr = fmt.Errorf("slack socket mode stopped: %w (check SLACK_APP_TOKEN and that Socket Mode is on for the app)", err)
			}
			break loop
		case evt := <-b.sm.Events:
			b.dispatch(ctx, workCtx, evt)
		}
	}
	stopSock()
	b.setStatus(false, "shutting down")

	// Drain: no more jobs; wait for the workers within the bound.
	close(b.queue)
	drained := make(chan struct{})
	go func() {
		workers.Wait()
		b.waitBusy()
		close(drained)
	}()
	t := time.NewTimer(b.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
		b.log.Warn("commands still running after the drain timeout; cancelling them", "timeout", b.cfg.DrainTimeout)
		cancelWork()
		grace := time.NewTimer(time.Second)
		defer grace.Stop()
		select {
		case <-drained:
		case <-grace.C:
			b.log.Error("commands ignored cancellation; leaving them behind")
		}
	}
	<-sockDone
	return runErr
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// dispatch handles one event from the Socket Mode client. It never blocks
// on slow work: requests are acked, then queued.
func (b *Bot) dispatch(ctx, workCtx context.Context, evt socketmode.Event) {
	received := time.Now()
	b.touch()
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.setStatus(false, "connecting to Slack")
	case socketmode.EventTypeConnectionError:
		reason := "cannot connect to Slack"
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok && e.ErrorObj != nil {
			reason += ": " + e.ErrorObj.Error()
		}
		b.setStatus(false, reason)
	case socketmode.EventTypeInvalidAuth:
		b.setStatus(false, "Slack refused the app token (invalid_auth): check SLACK_APP_TOKEN")
	case socketmode.EventTypeDisconnect:
		b.setStatus(false, "Slack asked to reconnect")
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		b.setStatus(true, "")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		b.log.Warn("socket mode error", "event", string(evt.Type), "data", fmt.Sprint(evt.Data))
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		b.accept(ctx, workCtx, evt, received)
	}
}

// accept queues a request's command and acks its envelope at once; when
// the queue is full it answers "busy": in the ack of a slash command, else
// through the response_url. The ack is sm.AckCtx (sm.Ack with a
// bound): sm.Ack waits without limit for room in slack-go's response
// queue, which stalls the event loop while the socket is down.
func (b *Bot) accept(ctx, workCtx context.Context, evt socketmode.Event, received time.Time) {
	if evt.Request == nil {
		return
	}
	j, ok := b.toJob(evt, received)
	queued := false
	var payload any
	if ok {
		select {
		case b.queue <- j:
			queued = true
		default:
			if evt.Type == socketmode.EventTypeSlashCommand {
				// The queue is full. A slash command's ack payload is its
				// reply: the ack itself says "busy", so the command is
				// answered without a request more in an overload.
				payload = map[string]string{"response_type": "ephemeral", "text": BusyText}
				b.log.Warn("queue full: answering busy in the ack", "user", j.req.User, "envelope", j.envelopeID, "queue", b.cfg.Queue)
			}
		}
	}
	ackCtx, cancel := context.WithTimeout(ctx, b.cfg.AckTimeout)
	err := b.sm.AckCtx(ackCtx, evt.Request.EnvelopeID, payload)
	cancel()
	b.metrics.observeAck(time.Since(received))
	if err != nil {
		// Slack will redeliver; the claim keeps the command from running twice.
		b.log.Warn("could not ack envelope", "envelope", evt.Request.EnvelopeID, "err", err)
	}
	if ok && !queued && payload == nil {
		b.busy(workCtx, j) // a click: answered through its response_url
	}
}

// job is one acknowledged command waiting for a worker.
type job struct {
	envelopeID  string
	retry       int
	req         commands.Request // its Received is when the envelope arrived
	responseURL string
}

func (b *Bot) toJob(evt socketmode.Event, received time.Time) (job, bool) {
	j := job{envelopeID: evt.Request.EnvelopeID, retry: evt.Request.RetryAttempt}
	switch d := evt.Data.(type) {
	case slack.SlashCommand:
		j.req = commands.Request{User: d.UserID, Text: d.Text, Channel: d.ChannelID, Received: received}
		j.responseURL = d.ResponseURL
		return j, true
	case slack.InteractionCallback:
		if d.Type != slack.InteractionTypeBlockActions || len(d.ActionCallback.BlockActions) == 0 {
			b.log.Debug("ignoring interaction", "type", string(d.Type), "user", d.User.ID)
			return j, false
		}
		a := d.ActionCallback.BlockActions[0]
		if a.Value == "" {
			b.log.Debug("ignoring a click on an element with no command", "action", a.ActionID, "user", d.User.ID)
			return j, false
		}
		channel := d.Channel.ID
		if channel == "" {
			channel = d.Container.ChannelID
		}
		j.req = commands.Request{User: d.User.ID, Text: a.Value, Channel: channel, Button: a.ActionID, Received: received}
		j.responseURL = d.ResponseURL
		return j, true
	}
	b.log.Debug("ignoring envelope", "type", evt.Request.Type, "envelope", evt.Request.EnvelopeID)
	return j, false
}

// busy answers a command the queue had no room for, on a goroutine of its
// own, bounded by busySem: when even those are all taken, the command is
// dropped with a log line.
func (b *Bot) busy(workCtx context.Context, j job) {
	log := b.log.With("user", j.req.User, "envelope", j.envelopeID)
	select {
	case b.busySem <- struct{}{}:
	default:
		log.Error("queue full and too many busy replies in flight: dropping command without a reply", "text", j.req.Text)
		return
	}
	log.Warn("queue full: answering busy", "queue", b.cfg.Queue)
	go func() {
		defer func() { <-b.busySem }()
		ctx, cancel := context.WithTimeout(workCtx, b.cfg.ReplyTimeout)
		defer cancel()
		b.reply(ctx, log, j, trains.Say(trains.T(BusyText)))
	}()
}

// waitBusy waits for the busy replies in flight.
func (b *Bot) waitBusy() {
	for range cap(b.busySem) {
		b.busySem <- struct{}{}
	}
	for range cap(b.busySem) {
		<-b.busySem
	}
}

// errorsIsUnavailable reports whether err says the store is unreachable.
func errorsIsUnavailable(err error) bool { return errors.Is(err, trains.ErrUnavailable) }
