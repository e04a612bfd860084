package slackfake_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// captureTB records the failures the fake reports instead of failing.
type captureTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (c *captureTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *captureTB) reported() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.errs, "\n")
}

// TestAnswersWithIDsSlackNeverGivesFail: the fake's answers are checked
// against Slack's id patterns, with no allowance: a test that seeds the
// fake with ids shaped unlike Slack's (a two-character team, bot and
// channel, a group member with a lowercase letter) fails, naming the field
// and Slack's pattern.
func TestAnswersWithIDsSlackNeverGivesFail(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tb := &captureTB{TB: t}
	fake := slackfake.NewForTest(tb, slackfake.Options{
		TeamID:     "T1",
		BotID:      "B1",
		Channels:   []slackfake.Channel{{ID: "C1", Name: "rel"}},
		UserGroups: map[string][]string{"S01": {"U0RITA", "U1x"}},
	})
	api := newAPI(fake)
	for _, tc := range []struct {
		name string
		call func() error
		want []string
	}{
		{"auth.test", func() error { _, err := api.AuthTestContext(ctx); return err },
			[]string{`/team_id: string doesn't match the regular expression "^[T][A-Z0-9]{2,}$"`, `/bot_id: string doesn't match the regular expression "^B[A-Z0-9]{8,}$"`}},
		{"usergroups.users.list", func() error { _, err := api.GetUserGroupMembersContext(ctx, "S01"); return err },
			[]string{`/users/1: string doesn't match the regular expression "^[UW][A-Z0-9]{2,}$"`}},
		{"chat.postMessage", func() error {
			_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
			return err
		}, []string{`/channel: string doesn't match the regular expression "^[CGD][A-Z0-9]{8,}$"`}},
	} {
		before := len(tb.reported())
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := tb.reported()[before:]
		for _, want := range tc.want {
			if !strings.Contains(got, "slackfake: contract: ") || !strings.Contains(got, want) {
				t.Errorf("%s: the contract check reported %q, want a mismatch containing %q", tc.name, got, want)
			}
		}
	}
	if got := tb.reported(); strings.Contains(got, "/users/0") {
		t.Errorf("a Slack-shaped member (U0RITA) was reported: %s", got)
	}
}
