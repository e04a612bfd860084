package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains"
)

func TestSlashCommandIsAckedAndHandled(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newRecorder()
	r := startBot(t, Config{Workers: 1}, h, redisStore(t))

	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev &lt;now&gt;"})
	ack, err := r.fake.Deliver(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	acked := time.Now() // the bot took the envelope in before it acked
	if ack.Payload != nil {
		t.Errorf("ack payload = %s, want a bare ack", ack.Payload)
	}
	p := waitReply(t, ctx, r.fake, env.ResponseURL, "done: `cut dev &amp;lt;now&amp;gt;`")
	if p.ResponseType != "ephemeral" {
		t.Errorf("reply response_type = %q, want ephemeral", p.ResponseType)
	}
	want := []commands.Request{{User: "U01", Text: "cut dev &lt;now&gt;", Channel: "C0CHANNEL1"}}
	if diff := cmp.Diff(want, received(t, acked, h.requests()...)); diff != "" {
		t.Errorf("handler requests (-want +got):\n%s", diff)
	}
	if eph := r.fake.Ephemerals("U01"); len(eph) != 1 || eph[0].Via != slackfake.ViaResponseURL {
		t.Errorf("ephemerals shown to U01 = %+v, want the one reply through response_url", eph)
	}
	// A command's ack is measured before it is queued; one worker takes
	// jobs in order, so once a later command has replied both are done.
	later := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "help"})
	if _, err := r.fake.Deliver(ctx, later); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, r.fake, later.ResponseURL, "done")
	// The handler records a command's duration (commands.Deps.Observe,
	// labelled with the command it ran); the bot does not, so that no
	// command is counted twice. This handler records nothing.
	if n := histogramCount(t, r.reg, "trainbot_command_duration_seconds", ""); n != 0 {
		t.Errorf("the bot recorded %d command durations itself, want none", n)
	}
	if n := histogramCount(t, r.reg, "trainbot_ack_duration_seconds", ""); n != 2 {
		t.Errorf("trainbot_ack_duration_seconds has %d samples, want 2", n)
	}
}

func TestAckIsSentBeforeTheHandlerFinishes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newRecorder()
	h.gate = make(chan struct{})
	r := startBot(t, Config{}, h, redisStore(t))

	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut staging"})
	ack, err := r.fake.Deliver(ctx, env) // returns only once acked
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.started:
	case <-ctx.Done():
		t.Fatal("the handler never started")
	}
	if posts := r.fake.ResponsePosts(env.ResponseURL); len(posts) != 0 {
		t.Fatalf("replied before the handler finished: %+v", posts)
	}
	t.Logf("ack latency %s while the handler was blocked", ack.Latency)
	close(h.gate)
	waitReply(t, ctx, r.fake, env.ResponseURL, "done: `cut staging`")
}

func TestRedeliveredEnvelopeRunsOnce(t *testing.T) {
	t.Parallel()
	stores := map[string]func(*testing.T) Store{
		"redis":    func(t *testing.T) Store { return redisStore(t) },
		"embedded": func(t *testing.T) Store { return boltStore(t) },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testRedeliveryRunsOnce(t, newStore(t))
		})
	}
}

func testRedeliveryRunsOnce(t *testing.T, store Store) {
	ctx := testContext(t)
	h := newRecorder()
	r := startBot(t, Config{Workers: 1}, h, store)

	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev"})
	if _, err := r.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, r.fake, env.ResponseURL, "done")
	if _, err := r.fake.Deliver(ctx, env.Retry("timeout")); err != nil {
		t.Fatal(err)
	}
	// One worker takes jobs in order: once a later command has replied,
	// the redelivery has been dealt with.
	later := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U02", ChannelID: "C0CHANNEL1", Text: "history"})
	if _, err := r.fake.Deliver(ctx, later); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, r.fake, later.ResponseURL, "done: `history`")

	var texts []string
	for _, req := range h.requests() {
		texts = append(texts, req.Text)
	}
	if diff := cmp.Diff([]string{"cut dev", "history"}, texts); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	if n := len(r.fake.ResponsePosts(env.ResponseURL)); n != 1 {
		t.Errorf("%d replies to the redelivered envelope, want 1", n)
	}
}

func TestStoreUnavailableRunsNothing(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newRecorder()
	r := startBot(t, Config{}, h, deadStore(t))

	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev"})
	if _, err := r.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, r.fake, env.ResponseURL, "state store unavailable — nothing was changed")
	if reqs := h.requests(); len(reqs) != 0 {
		t.Errorf("the handler ran with the store down: %+v", reqs)
	}
}

func TestFullQueueAnswersBusy(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newRecorder()
	h.gate = make(chan struct{})
	r := startBot(t, Config{Workers: 1, Queue: 1}, h, redisStore(t))

	var lastAck slackfake.Ack
	send := func(text string) slackfake.Envelope {
		t.Helper()
		env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: text})
		ack, err := r.fake.Deliver(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		lastAck = ack
		return env
	}
	running := send("one") // taken by the worker
	select {
	case <-h.started:
	case <-ctx.Done():
		t.Fatal("the handler never started")
	}
	queued := send("two") // waits in the queue
	if len(lastAck.Payload) != 0 {
		t.Errorf("a queued command's ack carries %s", lastAck.Payload)
	}
	send("three") // finds the queue full: the ack says so (a slash command's ack is its reply)
	if !strings.Contains(string(lastAck.Payload), "trainbot is busy, try again in a minute") || lastAck.Errors != nil {
		t.Errorf("ack of a command the queue had no room for = %s %v", lastAck.Payload, lastAck.Errors)
	}
	if e := r.fake.Ephemerals("U01"); len(e) == 0 || !strings.Contains(e[len(e)-1].Text, "trainbot is busy") {
		t.Errorf("the user was not shown busy: %+v", e)
	}

	h.gate <- struct{}{}
	h.gate <- struct{}{}
	waitReply(t, ctx, r.fake, running.ResponseURL, "done: `one`")
	waitReply(t, ctx, r.fake, queued.ResponseURL, "done: `two`")
	for _, req := range h.requests() {
		if req.Text == "three" {
			t.Errorf("the handler ran the command the queue had no room for")
		}
	}
}

func TestButtonClickRunsTheButtonsCommand(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newRecorder()
	r := startBot(t, Config{}, h, redisStore(t))

	ann := NewAnnouncer(r.api, "C0CHANNEL1")
	ref, err := ann.Post(ctx, trains.Message{Blocks: []trains.Block{
		{Kind: trains.Section, Text: trains.Text{trains.T("Staging train at "), trains.D(slot)}},
		{Kind: trains.Actions, Buttons: []trains.Button{
			{ID: "confirm", Label: "I'm on it", Command: "confirm next-staging", Style: "primary"},
			{ID: "approve", Label: "Approve", Command: "approve staging-2026-12-09"},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	msg, ok := r.fake.Message(ref.Channel, ref.TS)
	if !ok {
		t.Fatalf("posted message %+v not in the fake", ref)
	}
	if _, err := r.fake.Click(ctx, "U02", msg, "approve"); err != nil {
		t.Fatal(err)
	}
	got := received(t, time.Now(), <-h.started)[0]
	want := commands.Request{User: "U02", Text: "approve staging-2026-12-09", Channel: "C0CHANNEL1", Button: "approve"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request from the click (-want +got):\n%s", diff)
	}
	p := waitReply(t, ctx, r.fake, "", "done: `approve staging-2026-12-09`")
	if p.ReplaceOriginal {
		t.Error("the reply replaced the announcement")
	}
}

func TestReplyFallsBackToPostEphemeral(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r := startBot(t, Config{}, newRecorder(), redisStore(t))
	r.fake.FailNext("response_url", 1, slackfake.APIError("expired_url"))

	if _, err := r.fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "stats"}); err != nil {
		t.Fatal(err)
	}
	m, err := r.fake.WaitMessage(ctx, func(m slackfake.Message) bool { return m.Via == slackfake.ViaPostEphemeral })
	if err != nil {
		t.Fatal(err)
	}
	if m.Recipient != "U01" || m.Channel != "C0CHANNEL1" || !strings.Contains(m.AllText(), "done: `stats`") {
		t.Errorf("ephemeral fallback = %+v", m)
	}
}

func TestHandlerPanicRepliesWithRef(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := handlerFunc(func(context.Context, commands.Request) commands.Reply { panic("boom") })
	r := startBot(t, Config{}, h, redisStore(t))
	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev"})
	if _, err := r.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, r.fake, env.ResponseURL, "something went wrong (ref ")
}

func TestLongReplySpansSeveralMessages(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := handlerFunc(func(context.Context, commands.Request) commands.Reply {
		var m trains.Message
		for i := range 120 {
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.C(fmt.Sprintf("commit %d", i)), trains.T(" & more")}})
		}
		return commands.Reply{Message: m}
	})
	r := startBot(t, Config{}, h, redisStore(t))
	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "changes v1.0.0-dev.1"})
	if _, err := r.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	// The parts are posted in order; the last holds the last block.
	waitReply(t, ctx, r.fake, env.ResponseURL, "`commit 119`")
	posts := r.fake.ResponsePosts(env.ResponseURL)
	if len(posts) != 3 {
		t.Errorf("%d posts to the response_url, want 3", len(posts))
	}
	for i, p := range posts {
		if p.Error != "" {
			t.Errorf("part %d refused: %s %v", i, p.Error, p.Errors)
		}
	}
}

func TestRunDrainsRunningCommandsOnShutdown(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newRecorder()
	h.gate = make(chan struct{})
	r := startBot(t, Config{}, h, redisStore(t))

	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev"})
	if _, err := r.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	<-h.started
	r.stop() // shut down while the command runs
	if st := waitStatus(t, ctx, r.bot, false); st.Reason != "shutting down" {
		t.Errorf("status after stop = %+v", st)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned (%v) before the running command finished", err)
	default:
	}
	close(h.gate)
	err := <-r.done
	r.done <- err // for the cleanup
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if posts := r.fake.ResponsePosts(env.ResponseURL); len(posts) != 1 || !strings.Contains(posts[0].Text, "done") {
		t.Errorf("the drained command's reply = %+v", posts)
	}
}

func TestReconnectUpdatesStatus(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r := startBot(t, Config{}, newRecorder(), redisStore(t))
	before := r.fake.Stats().Sockets
	if !r.fake.DropSocket() {
		t.Fatal("no socket to drop")
	}
	if err := r.fake.WaitSockets(ctx, before+1); err != nil {
		t.Fatal(err)
	}
	// A command on the new socket is served.
	env := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "help"})
	if _, err := r.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, r.fake, env.ResponseURL, "done: `help`")
	if st := r.bot.SlackStatus(); !st.Connected || st.LastEvent.IsZero() {
		t.Errorf("status after reconnect = %+v", st)
	}
}

// waitStatus waits until the bot's connection state is connected.
func waitStatus(t *testing.T, ctx context.Context, b *Bot, connected bool) SlackStatus {
	t.Helper()
	for {
		b.mu.Lock()
		st, ch := b.status, b.changed
		b.mu.Unlock()
		if st.Connected == connected {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("status never became connected=%v: %+v", connected, st)
		case <-ch:
		}
	}
}

// histogramCount is the sample count of histogram name, of the series
// whose command label is command ("" for all).
func histogramCount(t *testing.T, reg *prometheus.Registry, name, command string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if command != "" && !hasLabel(m.GetLabel(), "command", command) {
				continue
			}
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

func hasLabel(labels []*dto.LabelPair, name, value string) bool {
	for _, l := range labels {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// A command that waits (on GitHub, say) does not hold the next one: once
// the next has waited StallAfter, the pool adds a worker for it.
func TestSlowCommandDoesNotHoldOthers(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	release := make(chan struct{})
	h := handlerFunc(func(ctx context.Context, r commands.Request) commands.Reply {
		if r.Text == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return commands.Reply{Message: trains.Say(trains.T("done: " + r.Text))}
	})
	r := startBot(t, Config{Workers: 2, StallAfter: time.Millisecond}, h, boltStore(t))
	slow := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "slow"})
	quick := r.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "quick"})
	for _, env := range []slackfake.Envelope{slow, quick} {
		if _, err := r.fake.Deliver(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	waitReply(t, ctx, r.fake, quick.ResponseURL, "done: quick") // while slow still waits
	close(release)
	waitReply(t, ctx, r.fake, slow.ResponseURL, "done: slow")
}

// received checks that each request's Received time is set and not after
// latest, and returns the requests without it, to compare.
func received(t *testing.T, latest time.Time, reqs ...commands.Request) []commands.Request {
	t.Helper()
	out := make([]commands.Request, len(reqs))
	for i, r := range reqs {
		if r.Received.IsZero() || r.Received.After(latest) {
			t.Errorf("request %q received at %v, want a time up to %v", r.Text, r.Received, latest)
		}
		r.Received = time.Time{}
		out[i] = r
	}
	return out
}
