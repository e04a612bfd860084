package slackfake_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/internal/slackfake"
)

func TestAuthTestAndUsers(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)

	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if auth.UserID != "U0B" || auth.BotID != "B0TRAINBOT" || auth.TeamID != "T0TEAM0001" || auth.User != "trainbot" {
		t.Errorf("auth.test = %+v", auth)
	}

	u, err := api.GetUserInfoContext(ctx, "U01")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "U01" || u.Name != "ana" || u.Profile.Email != "ana@example.com" || u.TZ != "Europe/Lisbon" || u.RealName != "Ana Lima" {
		t.Errorf("users.info = %+v", u)
	}
	if _, err := api.GetUserInfoContext(ctx, "U404"); !isSlackError(err, "user_not_found") {
		t.Errorf("unknown user: %v", err)
	}

	members, err := api.GetUserGroupMembersContext(ctx, "S01")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"U01", "W02"}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	fake.SetUserGroup("S01", "W03")
	if members, _ := api.GetUserGroupMembersContext(ctx, "S01"); !cmp.Equal(members, []string{"W03"}) {
		t.Errorf("after SetUserGroup: %v", members)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "S404"); !isSlackError(err, "no_such_subteam") {
		t.Errorf("unknown group: %v", err)
	}
}

func isSlackError(err error, code string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

func TestPostUpdateAndThreads(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)

	ch, parent, err := api.PostMessageContext(ctx, "C0CHANNEL1", slack.MsgOptionText("train staging", false), slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		t.Fatal(err)
	}
	if ch != "C0CHANNEL1" || parent == "" {
		t.Fatalf("post = %q %q", ch, parent)
	}
	_, reply, err := api.PostMessageContext(ctx, "C0CHANNEL1", slack.MsgOptionText("step 1", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	// A reply to a reply lands in the parent's thread.
	_, reply2, err := api.PostMessageContext(ctx, "C0CHANNEL1", slack.MsgOptionText("step 2", false), slack.MsgOptionTS(reply))
	if err != nil {
		t.Fatal(err)
	}
	if !(parent < reply && reply < reply2) {
		t.Errorf("timestamps not increasing: %s %s %s", parent, reply, reply2)
	}
	var texts []string
	for _, m := range fake.Thread("C0CHANNEL1", parent) {
		texts = append(texts, m.Text)
	}
	if diff := cmp.Diff([]string{"train staging", "step 1", "step 2"}, texts); diff != "" {
		t.Errorf("thread (-want +got):\n%s", diff)
	}
	if top := fake.Messages("C0CHANNEL1"); len(top) != 1 || top[0].TS != parent || top[0].User != "U0B" {
		t.Errorf("top-level = %+v", top)
	}

	ch, ts, text, err := api.UpdateMessageContext(ctx, "C0CHANNEL1", parent, slack.MsgOptionText("train staging: done", false))
	if err != nil || ch != "C0CHANNEL1" || ts != parent || text != "train staging: done" {
		t.Errorf("update = %q %q %q %v", ch, ts, text, err)
	}
	m, _ := fake.Message("C0CHANNEL1", parent)
	if m.Text != "train staging: done" || len(m.Edits) != 1 || m.Edits[0].Text != "train staging" || m.Edits[0].Via != slackfake.ViaPostMessage {
		t.Errorf("updated message = %+v", m)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C0CHANNEL1", "1.000001", slack.MsgOptionText("x", false)); !isSlackError(err, "message_not_found") {
		t.Errorf("update unknown ts: %v", err)
	}

	ets, err := api.PostEphemeralContext(ctx, "C0CHANNEL1", "U01", slack.MsgOptionText("only you", false))
	if err != nil || ets == "" {
		t.Fatalf("ephemeral = %q, %v", ets, err)
	}
	if e := fake.Ephemerals("U01"); len(e) != 1 || e[0].Text != "only you" || e[0].TS != ets {
		t.Errorf("ephemerals = %+v", e)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C0CHANNEL1", ets, slack.MsgOptionText("x", false)); !isSlackError(err, "message_not_found") {
		t.Errorf("update of an ephemeral: %v", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C0CHANNEL1", "U404", slack.MsgOptionText("x", false)); !isSlackError(err, "user_not_in_channel") {
		t.Errorf("ephemeral to unknown user: %v", err)
	}
}

func TestWebAPIErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)
	text := slack.MsgOptionText("hi", false)

	for _, tc := range []struct{ channel, code string }{{"C0NOCHANNEL", "channel_not_found"}, {"C0CHANNEL2", "not_in_channel"}} {
		if _, _, err := api.PostMessageContext(ctx, tc.channel, text); !isSlackError(err, tc.code) {
			t.Errorf("post to %s: %v, want %s", tc.channel, err, tc.code)
		}
	}
	if _, _, err := api.PostMessageContext(ctx, "C0CHANNEL1"); !isSlackError(err, "no_text") {
		t.Errorf("empty post: %v", err)
	}
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(fake.APIURL()))
	if _, err := bad.AuthTestContext(ctx); !isSlackError(err, "invalid_auth") {
		t.Errorf("wrong token: %v", err)
	}

	long := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil)
	_, _, err := api.PostMessageContext(ctx, "C0CHANNEL1", text, slack.MsgOptionBlocks(long))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" || len(se.Errors) != 1 || se.Errors[0].Message == nil ||
		*se.Errors[0].Message != "must be less than 3001 characters [json-pointer:/blocks/0/text/text]" {
		t.Errorf("long section: %#v", err)
	}

	fake.FailNext("chat.postMessage", 2, slackfake.RateLimited(2*time.Second))
	for range 2 {
		_, _, err := api.PostMessageContext(ctx, "C0CHANNEL1", text)
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
			t.Errorf("rate limited: %#v", err)
		}
	}
	fake.FailNext("chat.postMessage", 1, slackfake.HTTPStatus(http.StatusInternalServerError))
	fake.FailNext("chat.postMessage", 1, slackfake.APIError("fatal_error"))
	var sc slack.StatusCodeError
	if _, _, err := api.PostMessageContext(ctx, "C0CHANNEL1", text); !errors.As(err, &sc) || sc.Code != 500 || !sc.Retryable() {
		t.Errorf("500: %#v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C0CHANNEL1", text); !isSlackError(err, "fatal_error") {
		t.Errorf("fatal_error: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C0CHANNEL1", text); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	if n := fake.Calls("chat.postMessage"); n != 9 {
		t.Errorf("calls = %d, want 9", n)
	}
	if got := len(fake.Messages("C0CHANNEL1")); got != 1 {
		t.Errorf("stored %d messages, want 1", got)
	}
}

func TestWebAPIWireFormat(t *testing.T) {
	t.Parallel()
	fake := slackfake.NewForTest(t, workspace)
	post := func(method string, form url.Values) map[string]any {
		t.Helper()
		resp, err := http.PostForm(fake.APIURL()+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", method, ct)
		}
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tok := fake.BotToken()
	if out := post("chat.postMessage", url.Values{"channel": {"C0CHANNEL1"}, "text": {"x"}}); out["ok"] != false || out["error"] != "not_authed" {
		t.Errorf("no token: %v", out)
	}
	if out := post("chat.delete", url.Values{"token": {tok}}); out["ok"] != false || out["error"] != "unknown_method" {
		t.Errorf("unknown method: %v", out)
	}
	if out := post("chat.postMessage", url.Values{"token": {tok}, "channel": {"C0CHANNEL1"}, "blocks": {"{"}}); out["error"] != "invalid_blocks_format" {
		t.Errorf("malformed blocks: %v", out)
	}
	out := post("chat.postMessage", url.Values{"token": {tok}, "channel": {"C0CHANNEL1"}, "text": {strings.Repeat("é", 40001)}})
	if out["ok"] != true || out["warning"] != "message_truncated" {
		t.Errorf("long text: ok=%v warning=%v", out["ok"], out["warning"])
	}
}
