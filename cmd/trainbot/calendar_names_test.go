package main

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains"
)

// `trainbot calendar` shows names when SLACK_BOT_TOKEN is set, ids when
// it is not or when Slack cannot say.
func TestCalendarNamesFromSlack(t *testing.T) {
	clearEnv(t)
	repo := gitRepo(t)
	t.Setenv("TRAINBOT_DATA_DIR", t.TempDir())
	t.Setenv("TRAINBOT_CONSOLE_USER", "U0RITA")
	var out, errOut strings.Builder
	in := "oncall rotation <@U0RITA> <@U0GONE>\npause from 2030-01-01 00:00 until 2030-01-02 00:00 chain upgrade\n"
	if err := run(t.Context(), []string{"console", "--repo", repo}, env{stdin: strings.NewReader(in), stdout: &out, stderr: &errOut, clock: trains.SystemClock{}}); err != nil {
		t.Fatalf("console: %v\n%s", err, errOut.String())
	}
	calendar := func() (string, string) {
		t.Helper()
		out.Reset()
		errOut.Reset()
		if err := run(t.Context(), []string{"calendar"}, env{stdout: &out, stderr: &errOut, clock: trains.SystemClock{}}); err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String()
	}

	md, _ := calendar()
	for _, want := range []string{"| U0RITA |", "| U0GONE |", "(declared by U0RITA)"} {
		if !strings.Contains(md, want) {
			t.Errorf("without SLACK_BOT_TOKEN: lacks %q:\n%s", want, md)
		}
	}

	fake := slackfake.NewForTest(t, slackfake.Options{Users: []slackfake.User{{ID: "U0RITA", Name: "rita", RealName: "Rita Maria Releaser", DisplayName: "Rita Releaser"}}})
	t.Setenv("SLACK_BOT_TOKEN", fake.BotToken())
	t.Setenv("SLACK_API_URL", fake.APIURL())
	md, _ = calendar()
	for _, want := range []string{"| Rita Releaser |", "| U0GONE |", "(declared by Rita Releaser)"} {
		if !strings.Contains(md, want) {
			t.Errorf("with SLACK_BOT_TOKEN: lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "U0RITA") {
		t.Errorf("with SLACK_BOT_TOKEN: an id where a name was known:\n%s", md)
	}

	fake.FailNext("users.info", 100, slackfake.Fault{Error: "invalid_auth"})
	md, stderr := calendar()
	if !strings.Contains(md, "| U0RITA |") || !strings.Contains(stderr, "cannot read a Slack user's name") {
		t.Errorf("Slack refusing the token: want ids and a warning; stderr %q\n%s", stderr, md)
	}
}
