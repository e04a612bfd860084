package slackfake_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/internal/slackfake"
)

func TestResponseURL(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)
	env := fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "status"})
	u := env.ResponseURL

	_, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral),
		slack.MsgOptionText("all quiet", false))
	if err != nil {
		t.Fatal(err)
	}
	// match may call the fake: it runs without the fake's lock.
	p, err := fake.WaitResponse(ctx, u, func(p slackfake.ResponsePost) bool {
		return p.Text == "all quiet" && len(fake.ResponsePosts(u)) == 1 && len(fake.Ephemerals("U01")) == 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.ResponseType != "ephemeral" || p.ReplaceOriginal || p.Error != "" || p.URL != u {
		t.Errorf("post = %+v", p)
	}
	if e := fake.Ephemerals("U01"); len(e) != 1 || e[0].Text != "all quiet" || e[0].Via != slackfake.ViaResponseURL {
		t.Errorf("ephemerals = %+v", e)
	}

	_, _, err = api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(u, slack.ResponseTypeInChannel),
		slack.MsgOptionText("for everyone", false))
	if err != nil {
		t.Fatal(err)
	}
	if m := fake.Messages("C0CHANNEL1"); len(m) != 1 || m[0].Text != "for everyone" {
		t.Errorf("channel = %+v", m)
	}

	// A slash command's replace_original has no message to replace: it posts.
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionReplaceOriginal(u), slack.MsgOptionText("again", false)); err != nil {
		t.Fatal(err)
	}
	// Invalid blocks are refused and do not use the URL up.
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("h", 151), false, false))
	_, _, err = api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionBlocks(header))
	if !isSlackError(err, "invalid_blocks") {
		t.Errorf("long header: %v", err)
	}
	for i := range 3 {
		_, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("more", false))
		if i < 2 && err != nil {
			t.Errorf("use %d: %v", i+4, err)
		}
		if i == 2 && !isSlackError(err, "used_url") {
			t.Errorf("sixth use: %v, want used_url", err)
		}
	}
	if n := len(fake.ResponsePosts(u)); n != 7 {
		t.Errorf("recorded %d posts, want 7", n)
	}

	resp, err := http.Post(fake.URL()+"/response/commands/T0TEAM0001/999/nope", "application/json", strings.NewReader(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown response_url: %d", resp.StatusCode)
	}
}

func TestResponseURLDeleteOriginal(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)
	ts, err := api.PostEphemeralContext(ctx, "C0CHANNEL1", "U01", slack.MsgOptionBlocks(
		slack.NewActionBlock("b1", slack.NewButtonBlockElement("dismiss", "x", slack.NewTextBlockObject(slack.PlainTextType, "OK", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	env, err := fake.NewBlockAction(slackfake.BlockAction{UserID: "U01", ChannelID: "C0CHANNEL1", MessageTS: ts, ActionID: "dismiss"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(env.Payload), `"is_ephemeral":true`) || strings.Contains(string(env.Payload), `"message":`) {
		t.Errorf("ephemeral click payload = %s", env.Payload)
	}
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionDeleteOriginal(env.ResponseURL)); err != nil {
		t.Fatal(err)
	}
	if e := fake.Ephemerals("U01"); len(e) != 0 {
		t.Errorf("ephemerals after delete = %+v", e)
	}
	if m, ok := fake.Message("C0CHANNEL1", ts); !ok || !m.Deleted {
		t.Errorf("message = %+v", m)
	}
}

func TestResponseURLFault(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)
	env := fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1"})
	fake.FailNext("response_url", 1, slackfake.HTTPStatus(http.StatusServiceUnavailable))
	var sc slack.StatusCodeError
	_, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("x", false))
	if !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Errorf("fault: %#v", err)
	}
}
