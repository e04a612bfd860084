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

// TestIDsGivenToTheFakeAreChecked: ids that reach trainbot by no checked
// answer — a workspace's users (users.info's user is one of the schemas the
// check reads as any), Socket Mode payloads — are checked where the test
// gives them: a seeded user, a group set later, a slash command and a click
// from ids Slack never gives each fail the test, naming the id.
func TestIDsGivenToTheFakeAreChecked(t *testing.T) {
	t.Parallel()
	tb := &captureTB{TB: t}
	opts := workspace
	opts.Users = append([]slackfake.User{{ID: "U1", Name: "one"}}, workspace.Users...)
	fake := slackfake.NewForTest(tb, opts)
	fake.SetUserGroup("S02", "U0RITA", "U0x1")
	fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C1", Text: "status"})
	if _, err := fake.NewBlockAction(slackfake.BlockAction{UserID: "u01", ChannelID: "C0CHANNEL1", MessageTS: "1.2", ActionID: "x", BlockID: "b"}); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(tb.reported(), "slackfake: contract: ")
	want := []string{
		"",
		`Options: ids Slack never gives (use Slack-shaped ids, e.g. U0RITA, C0VALIDATR, S0RELEASE; see docs/contracts.md):` +
			"\n\t" + `"U1" is no User ID: Slack's description (defs_user_id) wants "^[UW][A-Z0-9]{2,}$"` + "\n",
		`SetUserGroup: ids Slack never gives`,
		`SlashCommand: ids Slack never gives`,
		`BlockAction: ids Slack never gives`,
	}
	if len(got) != len(want) {
		t.Fatalf("reported %q, want 4 reports: Options, SetUserGroup, SlashCommand, BlockAction", tb.reported())
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("report %d = %q, want it to start %q", i, got[i], w)
		}
	}
	for _, id := range []string{`"U0x1" is no User ID`, `"C1" is no Channel-like conversation ID`, `"u01" is no User ID`} {
		if !strings.Contains(tb.reported(), id) {
			t.Errorf("reported %q, want it to name %s", tb.reported(), id)
		}
	}
	if strings.Contains(tb.reported(), "U0RITA") && !strings.Contains(tb.reported(), "e.g. U0RITA") {
		t.Errorf("a Slack-shaped id was reported: %s", tb.reported())
	}

	// Many bad ids: the first five, and how many more.
	tb2 := &captureTB{TB: t}
	members := make([]string, 12)
	for i := range members {
		members[i] = fmt.Sprintf("U%d", i)
	}
	slackfake.NewForTest(tb2, slackfake.Options{UserGroups: map[string][]string{"S01": members}})
	if r := tb2.reported(); strings.Count(r, "is no User ID") != 5 || !strings.Contains(r, "… and 5 more") {
		t.Errorf("12 bad members (U10, U11 fine) reported as %q, want five and \"… and 5 more\"", r)
	}
}
