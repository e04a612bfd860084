package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
)

func defaults(t *testing.T) Settings {
	t.Helper()
	clearEnv(t)
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultsParse(t *testing.T) {
	s := defaults(t)
	c, err := s.Parse(ModeCalendar)
	if err != nil {
		t.Fatal(err)
	}
	want := trains.Schedule{
		Dev:           trains.SlotTime{Weekday: time.Tuesday, Hour: 14},
		Staging:       trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC),
	}
	if diff := cmp.Diff(want, c.Schedule); diff != "" {
		t.Errorf("schedule (-want +got):\n%s", diff)
	}
	if c.Soak != 168*time.Hour || c.StagingApprovals != 1 || c.InitialLine != (trains.Line{Minor: 1}) ||
		!cmp.Equal(c.Reminders, []time.Duration{24 * time.Hour, time.Hour}) || c.SlackAPIURL != "https://slack.com/api/" ||
		c.DeployWorkflow != "deploy-simple.yaml" || c.PublishWorkflow != "publish-images.yaml" || c.Branch != "main" || c.DryRun ||
		c.AuditMax != 100_000 || c.Retention != 400*24*time.Hour {
		t.Errorf("defaults: %+v", c)
	}
	// Console needs none of the serve settings.
	if _, err := s.Parse(ModeConsole); err != nil {
		t.Errorf("console with defaults: %v", err)
	}
}

func TestServeRequires(t *testing.T) {
	s := defaults(t)
	_, err := s.Parse(ModeServe)
	if err == nil {
		t.Fatal("serve with no tokens accepted")
	}
	for _, v := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "GITHUB_TOKEN", "TRAINBOT_REPO", "TRAINBOT_CHANNEL"} {
		if !strings.Contains(err.Error(), v+":") {
			t.Errorf("no line for %s in:\n%v", v, err)
		}
	}
	s.SlackAppToken, s.SlackBotToken, s.Repo, s.Channel, s.DryRun = "xapp-1", "xoxb-1", "acme/chain", "C0123ABCD", "true"
	s.Releasers, s.Validators = "U01, S02 ,W03,U01", "U09"
	c, err := s.Parse(ModeServe)
	if err != nil {
		t.Fatalf("dry-run serve without GITHUB_TOKEN: %v", err)
	}
	if c.Owner != "acme" || c.Repo != "chain" || !cmp.Equal(c.Releasers, []string{"U01", "S02", "W03"}) {
		t.Errorf("parsed %+v", c)
	}
}

func TestEveryBadSettingReported(t *testing.T) {
	s := defaults(t)
	s.SlackAPIURL = "slack.com/api"
	s.GitHubAPIURL = "ftp://x"
	s.Repo = "not a repo"
	s.Branch = "a b"
	s.DeployWorkflow = "deploy"
	s.PublishWorkflow = "x.json"
	s.DryRun = "maybe"
	s.GitHubPoll = "0s"
	s.RedisURL = "http://localhost"
	s.Releasers = "@ana"
	s.ChainOps = "U01,#ops"
	s.Validators = "u1"
	s.DevSlot = "Tues 2pm"
	s.StagingSlot = "Wed 25:00"
	s.StagingAnchor = "13/05/2026"
	s.Tick = "1h"
	s.Soak = "a week"
	s.Reminders = "24h,soon"
	s.InitialLine = "1.0"
	s.StagingApprovals = "-1"
	s.ShutdownGrace = "forever"
	s.HTTPAddr = "8080"
	s.LogLevel = "loud"
	s.AuditMax = "lots"
	s.Retention = "1y"
	_, err := s.Parse(ModeCalendar)
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{"SLACK_API_URL", "GITHUB_API_URL", "TRAINBOT_REPO", "TRAINBOT_BRANCH", "TRAINBOT_DEPLOY_WORKFLOW",
		"TRAINBOT_PUBLISH_WORKFLOW", "TRAINBOT_GITHUB_POLL", "TRAINBOT_DRY_RUN", "REDIS_URL", "TRAINBOT_RELEASERS", "TRAINBOT_CHAINOPS", "TRAINBOT_VALIDATORS",
		"TRAINBOT_DEV_SLOT", "TRAINBOT_STAGING_SLOT", "TRAINBOT_STAGING_ANCHOR", "TRAINBOT_SCHEDULER_TICK", "TRAINBOT_SOAK", "TRAINBOT_REMINDERS",
		"TRAINBOT_INITIAL_LINE", "TRAINBOT_STAGING_APPROVALS", "TRAINBOT_SHUTDOWN_GRACE", "TRAINBOT_HTTP_ADDR", "TRAINBOT_LOG_LEVEL",
		"TRAINBOT_AUDIT_MAX", "TRAINBOT_RETENTION"}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d lines for %d problems:\n%v", len(lines), len(want), err)
	}
	for i, v := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], v+": ") {
			t.Errorf("line %d should name %s:\n%v", i, v, err)
		}
	}
}

func TestGitHubURLGetsSlash(t *testing.T) {
	s := defaults(t)
	s.GitHubAPIURL = "https://ghe.example.com/api/v3"
	c, err := s.Parse(ModeCalendar)
	if err != nil || c.GitHubAPIURL != "https://ghe.example.com/api/v3/" {
		t.Errorf("%q, %v", c.GitHubAPIURL, err)
	}
}

// The release branch is held to the rules a hotfix branch is: it goes
// into GitHub request paths too.
func TestBranchSetting(t *testing.T) {
	for branch, ok := range map[string]bool{
		"main": true, "release/2026": true, "fix-1": true,
		"": false, "a..b": false, "-x": false, "a%2e": false, "x#y": false, "a b": false, "cafe1234": false, "refs/heads/main": false,
	} {
		s := defaults(t)
		s.Branch = branch
		c, err := s.Parse(ModeCalendar)
		if ok && (err != nil || c.Branch != branch) {
			t.Errorf("TRAINBOT_BRANCH=%q refused: %v", branch, err)
		}
		if !ok && (err == nil || !strings.HasPrefix(err.Error(), "TRAINBOT_BRANCH: ")) {
			t.Errorf("TRAINBOT_BRANCH=%q: %v, want a refusal naming the variable", branch, err)
		}
	}
}

func TestRepoNotADotStep(t *testing.T) {
	for _, repo := range []string{"acme/.", "acme/..", "acme/chain"} {
		s := defaults(t)
		s.Repo = repo
		c, err := s.Parse(ModeCalendar)
		if repo == "acme/chain" {
			if err != nil || c.Repo != "chain" {
				t.Errorf("TRAINBOT_REPO=%s: %+v, %v", repo, c, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "TRAINBOT_REPO: ") || !strings.Contains(err.Error(), "neither may be . or ..") {
			t.Errorf("TRAINBOT_REPO=%s accepted: %v", repo, err)
		}
	}
}

func TestAuditMax(t *testing.T) {
	for _, tc := range []struct {
		val  string
		want int // 0: refused
	}{
		{"100000", 100_000},
		{"1000", 1000},
		{"10000000", 10_000_000},
		{"999", 0},
		{"0", 0},
		{"-5", 0},
		{"10000001", 0},
		{"1e5", 0},
		{"100k", 0},
		{" 5000", 0},
		{"", 0},
	} {
		t.Run(tc.val, func(t *testing.T) {
			s := defaults(t)
			s.AuditMax = tc.val
			c, err := s.Parse(ModeCalendar)
			if tc.want == 0 {
				if err == nil || !strings.HasPrefix(err.Error(), "TRAINBOT_AUDIT_MAX: ") || strings.Contains(err.Error(), "\n") ||
					!strings.Contains(err.Error(), "from 1000 to 10000000") {
					t.Errorf("TRAINBOT_AUDIT_MAX=%q: got %v, want one line naming TRAINBOT_AUDIT_MAX and its range", tc.val, err)
				}
				return
			}
			if err != nil || c.AuditMax != tc.want {
				t.Errorf("TRAINBOT_AUDIT_MAX=%q: got %d, %v; want %d", tc.val, c.AuditMax, err, tc.want)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		val  string
		want time.Duration // -1: refused
	}{
		{"400d", 400 * day},
		{"367d", 367 * day},
		{"3650d", 3650 * day},
		{"36500d", 36500 * day},
		{"off", 0},
		{"366d", -1},
		{"30d", -1},
		{"0d", -1},
		{"0", -1},
		{"36501d", -1},
		{"400", -1},
		{"9600h", -1},
		{"1y", -1},
		{"", -1},
	} {
		t.Run(tc.val, func(t *testing.T) {
			s := defaults(t)
			s.Retention = tc.val
			c, err := s.Parse(ModeCalendar)
			if tc.want < 0 {
				if err == nil || !strings.HasPrefix(err.Error(), "TRAINBOT_RETENTION: ") || strings.Contains(err.Error(), "\n") ||
					!strings.Contains(err.Error(), "from 367d to 36500d") || !strings.Contains(err.Error(), "off") {
					t.Errorf("TRAINBOT_RETENTION=%q: got %v, want one line naming TRAINBOT_RETENTION, its range and off", tc.val, err)
				}
				return
			}
			if err != nil || c.Retention != tc.want {
				t.Errorf("TRAINBOT_RETENTION=%q: got %s, %v; want %s", tc.val, c.Retention, err, tc.want)
			}
		})
	}
}

// TestURLSettingsNeverShowCredentials: a base URL or REDIS_URL that holds a
// token or password is refused, or accepted, without the secret reaching
// the error that start-up logs.
func TestURLSettingsNeverShowCredentials(t *testing.T) {
	const secret = "s3cret-xoxb-ghp"
	for _, tc := range []struct {
		name, variable, value string
		want                  string // in the error line; "" means the value is accepted
	}{
		{"user and password", "SLACK_API_URL", "https://user:" + secret + "@slack.example.com/api/", "https://slack.example.com/… must not carry credentials: put the token in SLACK_BOT_TOKEN"},
		{"token as user name", "SLACK_API_URL", "https://" + secret + "@slack.example.com/api/", "must not carry credentials: put the token in SLACK_BOT_TOKEN"},
		{"token as password", "GITHUB_API_URL", "https://x-access-token:" + secret + "@ghe.example.com/api/v3/", "https://ghe.example.com/… must not carry credentials: put the token in GITHUB_TOKEN"},
		{"empty password", "GITHUB_API_URL", "https://" + secret + ":@ghe.example.com/api/v3/", "must not carry credentials"},
		{"token in the query", "SLACK_API_URL", "https://slack.example.com/api/?token=" + secret, "must not have a query or fragment"},
		{"token in the fragment", "GITHUB_API_URL", "https://ghe.example.com/api/v3/#" + secret, "must not have a query or fragment"},
		{"a token instead of a URL", "SLACK_API_URL", "xoxb-" + secret, "is not an http(s) URL with a host"},
		{"token before a colon", "SLACK_API_URL", secret + ":" + secret + "@slack.example.com", "is not an http(s) URL with a host"},
		{"no scheme", "GITHUB_API_URL", secret + "@ghe.example.com/api/v3/", "is not an http(s) URL with a host"},
		{"not a URL: control character", "SLACK_API_URL", "https://slack.example.com/api/\x7f" + secret, "does not parse as a URL"},
		{"not a URL: bad port", "GITHUB_API_URL", "https://ghe.example.com:" + secret + "/api/v3/", "does not parse as a URL"},
		{"not a URL: bad host", "SLACK_API_URL", "https://user:" + secret + "@[::1/api/", "does not parse as a URL"},
		{"not a URL: bad escape", "SLACK_API_URL", "https://user:%zz" + secret + "@slack.example.com/", "does not parse as a URL"},
		{"redis: not a URL", "REDIS_URL", "redis://:" + secret, "not a redis:// or rediss:// URL"},
		{"redis: bad host", "REDIS_URL", "redis://:" + secret + "@[::1", "not a redis:// or rediss:// URL"},
		{"redis: wrong scheme", "REDIS_URL", "http://:" + secret + "@redis.internal:6379", "not a redis:// or rediss:// URL"},
		{"redis: no scheme", "REDIS_URL", "default:" + secret + "@redis.internal:6379", "not a redis:// or rediss:// URL"},
		{"redis: unix sockets are not supported by the store", "REDIS_URL", "unix://:" + secret + "@/run/redis.sock", "not a redis:// or rediss:// URL"},
		{"redis: a password is fine", "REDIS_URL", "rediss://trainbot:" + secret + "@redis.internal:6380/2", ""},
		{"a plain base URL is fine", "GITHUB_API_URL", "https://ghe.example.com/api/v3", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaults(t)
			switch tc.variable {
			case "SLACK_API_URL":
				s.SlackAPIURL = tc.value
			case "GITHUB_API_URL":
				s.GitHubAPIURL = tc.value
			case "REDIS_URL":
				s.RedisURL = tc.value
			}
			_, err := s.Parse(ModeCalendar)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("%s refused: %v", tc.variable, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.variable, tc.value)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.variable+": ") || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("got %q, want one line naming %s and saying %q", msg, tc.variable, tc.want)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("the error shows the secret: %q", msg)
			}
		})
	}
}

func TestRoleIDsNamesTheBadOnes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"U01, @ana", `"@ana" is not a Slack user`},
		{"@ana,U01,#ops", `"@ana", "#ops" are not a Slack user`},
	} {
		ids, err := roleIDs(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("roleIDs(%q) = %v, want an error starting %q", tt.in, err, tt.want)
		}
		if !cmp.Equal(ids, []string{"U01"}) {
			t.Errorf("roleIDs(%q) kept %v, want [U01]", tt.in, ids)
		}
	}
}

// Slack's ids have a shape: a channel's name or a short made-up id is
// refused at start-up, naming the setting, not found at the first post.
func TestSlackIDsMustLookLikeSlacks(t *testing.T) {
	for _, tc := range []struct {
		channel, releasers, want string
	}{
		{"#validators", "U0RITA", `TRAINBOT_CHANNEL: "#validators" is not a Slack channel id`},
		{"C1", "U0RITA", `TRAINBOT_CHANNEL: "C1" is not a Slack channel id`},
		{"", "U0RITA", "TRAINBOT_CHANNEL: required for serve"},
		{"C0123ABCD", "U1", `TRAINBOT_RELEASERS: "U1" is not a Slack user`},
	} {
		s := defaults(t)
		s.SlackAppToken, s.SlackBotToken, s.Repo, s.DryRun = "xapp-1", "xoxb-1", "acme/chain", "true"
		s.Channel, s.Releasers = tc.channel, tc.releasers
		_, err := s.Parse(ModeServe)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("channel %q, releasers %q: %v, want %q", tc.channel, tc.releasers, err, tc.want)
		}
	}
}
