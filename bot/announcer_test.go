package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains"
)

// sleeps records the waits an Announcer asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func TestAnnouncerPostReplyEdit(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace())
	a := NewAnnouncer(newAPI(fake), "C0CHANNEL1")

	cut := trains.Message{Blocks: []trains.Block{
		{Kind: trains.Header, Text: trains.Text{trains.T("Dev train v0.5.0-dev.4")}},
		{Kind: trains.Section, Text: trains.Text{trains.T("Cut by "), trains.U("U01"), trains.T(" at "), trains.D(slot)}},
	}}
	ref, err := a.Post(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Channel != "C0CHANNEL1" || ref.TS == "" {
		t.Fatalf("Post returned %+v", ref)
	}
	step, err := a.Reply(ctx, ref, trains.Say(trains.T("Tagged "), trains.C("v0.5.0-dev.4")))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Edit(ctx, ref, trains.Say(trains.B("Deployed"), trains.T(" v0.5.0-dev.4"))); err != nil {
		t.Fatal(err)
	}

	top := fake.Messages("C0CHANNEL1")
	if len(top) != 1 {
		t.Fatalf("channel holds %d messages, want 1: %+v", len(top), top)
	}
	m := top[0]
	if !strings.Contains(m.AllText(), "*Deployed* v0.5.0-dev.4") || len(m.Edits) != 1 || m.Via != slackfake.ViaUpdate {
		t.Errorf("top message after the edit = %+v", m)
	}
	posted := slackfake.Message{Blocks: m.Edits[0].Blocks}.AllText()
	if !strings.Contains(string(m.Edits[0].Blocks), `"type":"header"`) || !strings.Contains(posted, "<!date^1796824800^") {
		t.Errorf("posted blocks = %s", m.Edits[0].Blocks)
	}
	thread := fake.Thread("C0CHANNEL1", ref.TS)
	if len(thread) != 2 || thread[1].TS != step.TS || thread[1].ThreadTS != ref.TS || !strings.Contains(thread[1].AllText(), "`v0.5.0-dev.4`") {
		t.Errorf("thread = %+v", thread)
	}
}

func TestAnnouncerWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace())
	var s sleeps
	a := NewAnnouncer(newAPI(fake), "C0CHANNEL1", WithSleeper(s.sleep))

	fake.FailNext("chat.postMessage", 2, slackfake.RateLimited(3*time.Second))
	if _, err := a.Post(ctx, trains.Say(trains.T("hello"))); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("chat.postMessage"); got != 3 {
		t.Errorf("chat.postMessage called %d times, want 3", got)
	}
	if fmt.Sprint(s.d) != "[3s 3s]" {
		t.Errorf("waited %v, want [3s 3s]", s.d)
	}
	if n := len(fake.Messages("C0CHANNEL1")); n != 1 {
		t.Errorf("%d messages posted, want 1", n)
	}

	// A limit that outlasts the retries is an error saying so.
	fake.FailNext("chat.update", -1, slackfake.RateLimited(time.Second))
	err := a.Edit(ctx, trains.MessageRef{Channel: "C0CHANNEL1", TS: fake.Messages("C0CHANNEL1")[0].TS}, trains.Say(trains.T("x")))
	if err == nil || !strings.Contains(err.Error(), "rate limited by Slack: chat.update 4 times") {
		t.Errorf("Edit under a lasting rate limit: %v", err)
	}
}

func TestAnnouncerExplainsSlackErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace())
	api := newAPI(fake)

	_, err := NewAnnouncer(api, "C0CHANNEL2").Post(ctx, trains.Say(trains.T("hello")))
	want := "post to channel C0CHANNEL2: Slack says not_in_channel: invite the bot to the channel with /invite @trainbot"
	if err == nil || err.Error() != want {
		t.Errorf("Post to a channel the bot is not in: %v\nwant: %s", err, want)
	}
	err = NewAnnouncer(api, "C0CHANNEL1").Edit(ctx, trains.MessageRef{Channel: "C0CHANNEL1", TS: "1.000999"}, trains.Say(trains.T("x")))
	if err == nil || !strings.Contains(err.Error(), "message_not_found") || !strings.Contains(err.Error(), "nothing to edit") {
		t.Errorf("Edit of a missing message: %v", err)
	}
	var se *SlackError
	if !asSlackError(err, &se) {
		t.Errorf("error %v is not a *SlackError", err)
	}
}

func TestAnnouncerContinuesLongPostsInThread(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace())
	var m trains.Message
	for i := range 70 {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.T(fmt.Sprintf("line %d", i))}})
	}
	ref, err := NewAnnouncer(newAPI(fake), "C0CHANNEL1").Post(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	thread := fake.Thread("C0CHANNEL1", ref.TS)
	if len(thread) != 2 || !strings.Contains(thread[1].AllText(), "line 69") {
		t.Errorf("thread of a 70-block post = %d messages", len(thread))
	}
}

func asSlackError(err error, target **SlackError) bool { return errors.As(err, target) }
