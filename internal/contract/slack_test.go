package contract

import (
	"net/http"
	"strings"
	"testing"
)

func mustSlack(t *testing.T) *SlackValidator {
	t.Helper()
	v, err := Slack()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// authTest is auth.test as slack-go calls it: a POST with a form and the
// token as a Bearer header (quirks "POST to GET-only methods" and "token
// parameter").
func authTest(answer string) Exchange {
	return Exchange{
		Method: http.MethodPost, Path: "/api/auth.test",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer xoxb-1"}},
		Body:   []byte(""), Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: []byte(answer),
	}
}

func TestSlackKnownGoodExchangesPass(t *testing.T) {
	v := mustSlack(t)
	for _, ex := range []Exchange{
		authTest(`{"ok":true,"url":"https://acme.slack.com/","team":"acme","user":"trainbot",` +
			`"team_id":"T0123ABCD","user_id":"U0123ABCD","bot_id":"B0123ABCDE","is_enterprise_install":false}`),
		authTest(`{"ok":false,"error":"invalid_auth"}`),               // quirk "errors are HTTP 200 with ok:false"
		{Method: http.MethodPost, Path: "/api/apps.connections.open"}, // quirk "apps.connections.open"
	} {
		if err := v.Check(ex); err != nil {
			t.Errorf("%s: %v", ex.Path, err)
		}
	}
}

func TestSlackMissingRequiredFieldFails(t *testing.T) {
	v := mustSlack(t)
	err := v.Check(authTest(`{"ok":true,"url":"https://acme.slack.com/","team":"acme","user":"trainbot","user_id":"U0123ABCD"}`))
	if err == nil || !strings.Contains(err.Error(), `answer at /team_id: property "team_id" is missing`) {
		t.Errorf("an auth.test answer without team_id: got %v", err)
	}
}

func TestSlackBadRequestFails(t *testing.T) {
	v := mustSlack(t)
	err := v.Check(Exchange{
		Method: http.MethodPost, Path: "/api/chat.postMessage",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer xoxb-1"}},
		Body:   []byte("text=hi"), Status: http.StatusOK, ResponseHeader: jsonHeader(),
		ResponseBody: []byte(`{"ok":false,"error":"channel_not_found"}`),
	})
	if err == nil || !strings.Contains(err.Error(), "channel") {
		t.Errorf("a chat.postMessage without channel: got %v", err)
	}
}

func TestSlackCheckID(t *testing.T) {
	v := mustSlack(t)
	for _, tc := range []struct{ def, id, want string }{
		{"defs_user_id", "U0RITA", ""},
		{"defs_user_id", "W0123ABCD", ""},
		{"defs_user_id", "U1", `"U1" is no User ID: Slack's description (defs_user_id) wants "^[UW][A-Z0-9]{2,}$"`},
		{"defs_user_id", "U0x1", `"U0x1" is no User ID`},
		{"defs_channel", "C0VALIDATR", ""},
		{"defs_channel", "C1", `"C1" is no Channel-like conversation ID: Slack's description (defs_channel) wants "^[CGD][A-Z0-9]{8,}$"`},
		{"defs_subteam_id", "S0RELEASE", ""},
		{"defs_subteam_id", "S1", `"S1" is no Subteam ID`},
		{"defs_workspace_id", "T0TEAM0001", ""},
		{"defs_workspace_id", "T1", `"T1" is no Team or Enterprise ID`},
		{"defs_bot_id", "B1", `"B1" is no Bot User ID`},
		{"defs_nothing", "X", `no id definition "defs_nothing"`},
	} {
		err := v.CheckID(tc.def, tc.id)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckID(%s, %q) = %v, want %q", tc.def, tc.id, err, tc.want)
		}
	}
}
