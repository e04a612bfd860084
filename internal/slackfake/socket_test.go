package slackfake_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// workspace is the seed every test uses.
var workspace = slackfake.Options{
	PingInterval: 20 * time.Millisecond,
	Channels:     []slackfake.Channel{{ID: "C0CHANNEL1", Name: "rel"}, {ID: "C0CHANNEL2", Name: "private", NotMember: true}},
	Users:        []slackfake.User{{ID: "U01", Name: "ana", RealName: "Ana Lima", Email: "ana@example.com", TZ: "Europe/Lisbon"}},
	UserGroups:   map[string][]string{"S01": {"U01", "W02"}},
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// client is a real slack-go Socket Mode client running against the fake.
type client struct {
	api    *slack.Client
	sm     *socketmode.Client
	events chan socketmode.Event // only requests: slash, interactive, events_api
	done   chan error            // RunContext's result
}

func newAPI(fake *slackfake.Server) *slack.Client {
	return slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
}

// runClient starts sm.RunContext until the test ends.
func runClient(t *testing.T, fake *slackfake.Server, opts ...socketmode.Option) *client {
	t.Helper()
	api := newAPI(fake)
	c := &client{api: api, sm: socketmode.New(api, opts...), events: make(chan socketmode.Event, 100), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { c.done <- c.sm.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-c.sm.Events:
				switch e.Type {
				case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
					c.events <- e
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

func (c *client) next(t *testing.T, ctx context.Context) socketmode.Event {
	t.Helper()
	select {
	case e := <-c.events:
		return e
	case <-ctx.Done():
		t.Fatal("no event from the client")
		return socketmode.Event{}
	}
}

type ackResult struct {
	ack slackfake.Ack
	err error
}

// async runs a blocking fake call in the background.
func async(f func() (slackfake.Ack, error)) <-chan ackResult {
	ch := make(chan ackResult, 1)
	go func() {
		a, err := f()
		ch <- ackResult{a, err}
	}()
	return ch
}

func TestHelloAndPingsKeepTheClientConnected(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	runClient(t, fake, socketmode.OptionPingInterval(500*time.Millisecond))

	if err := fake.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	// 40 pongs at 20 ms span more than the client's 500 ms ping timeout.
	if err := fake.WaitPongs(ctx, 40); err != nil {
		t.Fatal(err)
	}
	st := fake.Stats()
	if st.Sockets != 1 || st.ConnectionsOpened != 1 || st.LiveSockets != 1 {
		t.Errorf("stats = %+v, want one socket that stayed up", st)
	}
}

func TestMissingPingsMakeTheClientReconnect(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	runClient(t, fake, socketmode.OptionPingInterval(100*time.Millisecond))
	if err := fake.WaitPongs(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.PausePings(true)
	if err := fake.WaitSockets(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fake.PausePings(false)
}

func TestSlashCommandAckWithPayload(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	c := runClient(t, fake)

	res := async(func() (slackfake.Ack, error) {
		return fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "pause 6h a &lt;b&gt;"})
	})
	evt := c.next(t, ctx)
	if evt.Type != socketmode.EventTypeSlashCommand {
		t.Fatalf("event type = %q", evt.Type)
	}
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("data is %T", evt.Data)
	}
	if !evt.Request.AcceptsResponsePayload || evt.Request.EnvelopeID == "" {
		t.Errorf("request = %+v", evt.Request)
	}
	if !strings.HasPrefix(cmd.ResponseURL, fake.URL()+"/response/commands/") {
		t.Errorf("response_url = %q, want one on the fake", cmd.ResponseURL)
	}
	got := slack.SlashCommand{TeamID: cmd.TeamID, ChannelID: cmd.ChannelID, ChannelName: cmd.ChannelName,
		UserID: cmd.UserID, UserName: cmd.UserName, Command: cmd.Command, Text: cmd.Text, APIAppID: cmd.APIAppID}
	want := slack.SlashCommand{TeamID: "T0TEAM0001", ChannelID: "C0CHANNEL1", ChannelName: "rel", UserID: "U01", UserName: "ana",
		Command: "/train", Text: "pause 6h a &lt;b&gt;", APIAppID: "A1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slash command (-want +got):\n%s", diff)
	}

	payload := map[string]any{"response_type": "ephemeral", "text": "paused"}
	if err := c.sm.Ack(*evt.Request, payload); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.ack.EnvelopeID != evt.Request.EnvelopeID || r.ack.Envelope.ID != evt.Request.EnvelopeID || r.ack.Latency <= 0 {
		t.Errorf("ack = %+v", r.ack)
	}
	var gotPayload map[string]any
	if err := json.Unmarshal(r.ack.Payload, &gotPayload); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(payload, gotPayload); diff != "" {
		t.Errorf("ack payload (-want +got):\n%s", diff)
	}
	// The payload is the reply: an ephemeral to the invoker.
	eph := fake.Ephemerals("U01")
	if len(eph) != 1 || eph[0].Text != "paused" || eph[0].Via != slackfake.ViaAck || eph[0].Channel != "C0CHANNEL1" {
		t.Errorf("ephemerals = %+v", eph)
	}
}

func TestRedeliveryKeepsTheEnvelopeID(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	c := runClient(t, fake)

	env := fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "status"})
	for attempt := range 2 {
		if attempt > 0 {
			env = env.Retry("timeout")
		}
		res := async(func() (slackfake.Ack, error) { return fake.Deliver(ctx, env) })
		evt := c.next(t, ctx)
		if evt.Request.EnvelopeID != env.ID || evt.Request.RetryAttempt != attempt {
			t.Errorf("attempt %d: request = %+v", attempt, evt.Request)
		}
		if attempt == 1 && evt.Request.RetryReason != "timeout" {
			t.Errorf("retry_reason = %q", evt.Request.RetryReason)
		}
		if err := c.sm.Ack(*evt.Request); err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.err != nil || r.ack.Envelope.RetryAttempt != attempt || r.ack.Payload != nil {
			t.Fatalf("attempt %d: ack = %+v, %v", attempt, r.ack, r.err)
		}
	}
	// A third ack matches no delivery.
	if err := c.sm.Ack(socketmode.Request{EnvelopeID: env.ID}); err != nil {
		t.Fatal(err)
	}
	st, err := fake.WaitStats(ctx, func(s slackfake.Stats) bool { return s.Acks == 3 })
	if err != nil {
		t.Fatal(err)
	}
	if st.UnmatchedAcks != 1 || st.EnvelopesSent != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBlockActionArrivesAsInteractionCallback(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	c := runClient(t, fake)

	blocks := slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Release *staging*?", false, false), nil, nil, slack.SectionBlockOptionBlockID("s1")),
		slack.NewActionBlock("b1", slack.NewButtonBlockElement("approve", "staging-2026-12-09",
			slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))),
	)
	_, ts, err := c.api.PostMessageContext(ctx, "C0CHANNEL1", slack.MsgOptionText("Release staging?", false), blocks)
	if err != nil {
		t.Fatal(err)
	}
	msg, ok := fake.Message("C0CHANNEL1", ts)
	if !ok {
		t.Fatal("posted message not stored")
	}

	res := async(func() (slackfake.Ack, error) { return fake.Click(ctx, "U01", msg, "approve") })
	evt := c.next(t, ctx)
	cb, ok := evt.Data.(slack.InteractionCallback)
	if evt.Type != socketmode.EventTypeInteractive || !ok {
		t.Fatalf("event %q with %T", evt.Type, evt.Data)
	}
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U01" || cb.User.Name != "ana" || cb.Channel.ID != "C0CHANNEL1" {
		t.Errorf("callback = %+v", cb)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("block actions = %+v (attachment actions %d)", cb.ActionCallback.BlockActions, len(cb.ActionCallback.AttachmentActions))
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "approve" || a.BlockID != "b1" || a.Value != "staging-2026-12-09" || a.Text.Text != "Approve" || a.ActionTs == "" {
		t.Errorf("action = %+v", a)
	}
	if cb.Container.Type != "message" || cb.Container.MessageTs != ts || cb.Container.ChannelID != "C0CHANNEL1" || cb.Container.IsEphemeral {
		t.Errorf("container = %+v", cb.Container)
	}
	if cb.Message.Timestamp != ts || cb.Message.Text != "Release staging?" || len(cb.Message.Blocks.BlockSet) != 2 {
		t.Errorf("message = %+v", cb.Message)
	}
	if err := c.sm.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil {
		t.Fatal(r.err)
	}

	// replace_original through the response_url edits the clicked message.
	_, _, err = c.api.PostMessageContext(ctx, "", slack.MsgOptionReplaceOriginal(cb.ResponseURL),
		slack.MsgOptionText("Approved by <@U01>", false))
	if err != nil {
		t.Fatal(err)
	}
	edited, err := fake.WaitMessage(ctx, func(m slackfake.Message) bool { return m.TS == ts && len(m.Edits) == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if edited.Text != "Approved by <@U01>" || edited.Blocks != nil || edited.Via != slackfake.ViaResponseURL || edited.Edits[0].Text != "Release staging?" {
		t.Errorf("edited = %+v", edited)
	}
}

func TestBlockActionNeedsAnElement(t *testing.T) {
	t.Parallel()
	fake := slackfake.NewForTest(t, workspace)
	if _, err := fake.NewBlockAction(slackfake.BlockAction{UserID: "U01", ChannelID: "C0CHANNEL1", MessageTS: "1.2", ActionID: "x"}); err == nil {
		t.Error("unknown message without BlockID: no error")
	}
	env, err := fake.NewBlockAction(slackfake.BlockAction{UserID: "U01", ChannelID: "C0CHANNEL1", MessageTS: "1.2", ActionID: "x", BlockID: "b", Value: "v"})
	if err != nil || env.Type != slackfake.TypeInteractive || env.ResponseURL == "" {
		t.Errorf("env = %+v, %v", env, err)
	}
}

func TestDisconnectMakesTheClientReconnect(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	c := runClient(t, fake)

	for i, reason := range []string{"refresh_requested", "warning", ""} {
		if err := fake.WaitSockets(ctx, i+1); err != nil {
			t.Fatal(err)
		}
		if reason == "" {
			if !fake.DropSocket() {
				t.Fatal("no socket to drop")
			}
		} else if err := fake.Disconnect(ctx, reason); err != nil {
			t.Fatal(err)
		}
		if err := fake.WaitSockets(ctx, i+2); err != nil {
			t.Fatalf("after %q: %v", reason, err)
		}
	}
	st := fake.Stats()
	if st.ConnectionsOpened != 4 || st.Sockets != 4 || st.Disconnects != 2 {
		t.Errorf("stats = %+v", st)
	}
	// Envelopes go to the new connection.
	res := async(func() (slackfake.Ack, error) {
		return fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "help"})
	})
	evt := c.next(t, ctx)
	if err := c.sm.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil || r.ack.Socket != 4 {
		t.Errorf("ack = %+v, %v", r.ack, r.err)
	}
}

func TestConnectionsOpen(t *testing.T) {
	t.Parallel()
	t.Run("invalid_auth is fatal", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.NewForTest(t, workspace)
		fake.FailNext("apps.connections.open", 1, slackfake.APIError("invalid_auth"))
		c := runClient(t, fake)
		select {
		case err := <-c.done:
			c.done <- err // for the cleanup
			if err == nil || err.Error() != "invalid_auth" {
				t.Errorf("RunContext = %v, want invalid_auth", err)
			}
		case <-testContext(t).Done():
			t.Fatal("RunContext did not return")
		}
	})
	t.Run("wrong app token", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.NewForTest(t, workspace)
		api := slack.New(fake.BotToken(), slack.OptionAppLevelToken("xapp-wrong"), slack.OptionAPIURL(fake.APIURL()))
		_, _, err := socketmode.New(api).OpenContext(testContext(t))
		if err == nil || err.Error() != "invalid_auth" {
			t.Errorf("open = %v, want invalid_auth", err)
		}
	})
	t.Run("429 is retried", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		fake := slackfake.NewForTest(t, workspace)
		fake.FailNext("apps.connections.open", 1, slackfake.RateLimited(0))
		runClient(t, fake)
		if err := fake.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		if n := fake.Calls("apps.connections.open"); n != 2 {
			t.Errorf("apps.connections.open calls = %d, want 2", n)
		}
	})
}

func TestEnvelopeAfterDisconnectGoesToTheNewSocket(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	c := runClient(t, fake)
	if err := fake.Disconnect(ctx, "refresh_requested"); err != nil {
		t.Fatal(err)
	}
	// No wait for the reconnect: SlashCommand waits for a socket itself.
	res := async(func() (slackfake.Ack, error) {
		return fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "help"})
	})
	evt := c.next(t, ctx)
	if err := c.sm.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil || r.ack.Socket != 2 {
		t.Errorf("ack = %+v, %v", r.ack, r.err)
	}
}
