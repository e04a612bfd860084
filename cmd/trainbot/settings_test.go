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
		c.AuditMax != 100_000 {
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
	s.SlackAppToken, s.SlackBotToken, s.Repo, s.Channel, s.DryRun = "xapp-1", "xoxb-1", "acme/chain", "C0123", "true"
	s.Releasers, s.Validators = "U1, S2 ,W3,U1", "U9"
	c, err := s.Parse(ModeServe)
	if err != nil {
		t.Fatalf("dry-run serve without GITHUB_TOKEN: %v", err)
	}
	if c.Owner != "acme" || c.Repo != "chain" || !cmp.Equal(c.Releasers, []string{"U1", "S2", "W3"}) {
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
	s.ChainOps = "U1,#ops"
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
	_, err := s.Parse(ModeCalendar)
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{"SLACK_API_URL", "GITHUB_API_URL", "TRAINBOT_REPO", "TRAINBOT_BRANCH", "TRAINBOT_DEPLOY_WORKFLOW",
		"TRAINBOT_PUBLISH_WORKFLOW", "TRAINBOT_GITHUB_POLL", "TRAINBOT_DRY_RUN", "REDIS_URL", "TRAINBOT_RELEASERS", "TRAINBOT_CHAINOPS", "TRAINBOT_VALIDATORS",
		"TRAINBOT_DEV_SLOT", "TRAINBOT_STAGING_SLOT", "TRAINBOT_STAGING_ANCHOR", "TRAINBOT_SCHEDULER_TICK", "TRAINBOT_SOAK", "TRAINBOT_REMINDERS",
		"TRAINBOT_INITIAL_LINE", "TRAINBOT_STAGING_APPROVALS", "TRAINBOT_SHUTDOWN_GRACE", "TRAINBOT_HTTP_ADDR", "TRAINBOT_LOG_LEVEL",
		"TRAINBOT_AUDIT_MAX"}
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
