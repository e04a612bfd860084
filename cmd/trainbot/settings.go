package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/live"
	"github.com/trainbot/trainbot/trains"
)

// Settings are trainbot's settings as they come from the environment (SPEC
// §8). Every field is read as text and parsed by Parse, so that every bad
// value is reported at once, one line per variable.
type Settings struct {
	SlackAppToken    string `envconfig:"SLACK_APP_TOKEN" desc:"Socket Mode app token (xapp-…); required for serve"`
	SlackBotToken    string `envconfig:"SLACK_BOT_TOKEN" desc:"bot token (xoxb-…); required for serve"`
	SlackAPIURL      string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL"`
	GitHubToken      string `envconfig:"GITHUB_TOKEN" desc:"token for tags and workflow dispatch; required for serve unless TRAINBOT_DRY_RUN or a GitHub App is set"`
	GitHubAppID      string `envconfig:"GITHUB_APP_ID" desc:"GitHub App id: authenticate as the app's installation instead of GITHUB_TOKEN (with the two settings below)"`
	GitHubAppInstall string `envconfig:"GITHUB_APP_INSTALLATION_ID" desc:"the app's installation id: the number at the end of the installation's settings page"`
	GitHubAppKey     string `envconfig:"GITHUB_APP_PRIVATE_KEY" desc:"the app's private key, PEM text (PKCS#1 or PKCS#8 RSA)"`
	GitHubAppKeyFile string `envconfig:"GITHUB_APP_PRIVATE_KEY_FILE" desc:"path of the app's private key .pem file, instead of GITHUB_APP_PRIVATE_KEY"`
	GitHubAPIURL     string `envconfig:"GITHUB_API_URL" default:"https://api.github.com/" desc:"GitHub REST base URL (Enterprise: https://HOST/api/v3/)"`
	Repo             string `envconfig:"TRAINBOT_REPO" desc:"owner/name of the repository that is released; required for serve"`
	Branch           string `envconfig:"TRAINBOT_BRANCH" default:"main" desc:"release branch"`
	DeployWorkflow   string `envconfig:"TRAINBOT_DEPLOY_WORKFLOW" default:"deploy-simple.yaml" desc:"deploy workflow file"`
	PublishWorkflow  string `envconfig:"TRAINBOT_PUBLISH_WORKFLOW" default:"publish-images.yaml" desc:"workflow to wait for on a new tag; empty: do not wait"`
	GitHubPoll       string `envconfig:"TRAINBOT_GITHUB_POLL" default:"5s" desc:"first wait between polls of a workflow run; it backs off to 6 times that"`
	DryRun           string `envconfig:"TRAINBOT_DRY_RUN" default:"false" desc:"announce what would be done, create no tags, dispatch nothing"`
	RedisURL         string `envconfig:"REDIS_URL" desc:"redis:// or rediss:// URL; empty: embedded store in TRAINBOT_DATA_DIR"`
	RedisPrefix      string `envconfig:"TRAINBOT_REDIS_PREFIX" default:"trainbot:" desc:"prefix of every Redis key"`
	DataDir          string `envconfig:"TRAINBOT_DATA_DIR" default:"./data" desc:"embedded store folder"`
	Channel          string `envconfig:"TRAINBOT_CHANNEL" desc:"validator channel id for announcements; required for serve"`
	Releasers        string `envconfig:"TRAINBOT_RELEASERS" desc:"releasers: Slack user (U…/W…) and user-group (S…) ids, comma-separated"`
	ChainOps         string `envconfig:"TRAINBOT_CHAINOPS" desc:"chain ops: user and user-group ids, comma-separated"`
	Validators       string `envconfig:"TRAINBOT_VALIDATORS" desc:"validators: user and user-group ids, comma-separated"`
	DevSlot          string `envconfig:"TRAINBOT_DEV_SLOT" default:"Tue 14:00" desc:"weekday and UTC time of the weekly dev train"`
	StagingSlot      string `envconfig:"TRAINBOT_STAGING_SLOT" default:"Wed 14:00" desc:"weekday and UTC time of the bi-weekly staging train"`
	StagingAnchor    string `envconfig:"TRAINBOT_STAGING_ANCHOR" default:"2026-05-13" desc:"date of one staging day (YYYY-MM-DD); staging runs every 14 days from it"`
	Tick             string `envconfig:"TRAINBOT_SCHEDULER_TICK" default:"30s" desc:"longest wait between two looks of the scheduler (deploy runs are watched at this pace); reminders, slots and leases wake it at their moment"`
	Soak             string `envconfig:"TRAINBOT_SOAK" default:"168h" desc:"minimum dev soak before staging"`
	Reminders        string `envconfig:"TRAINBOT_REMINDERS" default:"24h,1h" desc:"reminder lead times before each slot, comma-separated"`
	InitialLine      string `envconfig:"TRAINBOT_INITIAL_LINE" default:"0.1.0" desc:"line when the repo has no train tags"`
	StagingApprovals string `envconfig:"TRAINBOT_STAGING_APPROVALS" default:"1" desc:"validator sign-offs a staging train needs"`
	ShutdownGrace    string `envconfig:"TRAINBOT_SHUTDOWN_GRACE" default:"20s" desc:"how long a stopping trainbot waits for running commands and train steps; a step cut short resumes at the next start"`
	CalendarPath     string `envconfig:"TRAINBOT_CALENDAR_PATH" desc:"repository path of the calendar file committed at each dev cut (the RFC's: docs/governance/release-calendar.md); empty: off"`
	HTTPAddr         string `envconfig:"TRAINBOT_HTTP_ADDR" default:":8080" desc:"address of /healthz, /readyz, /metrics and the calendar"`
	ConsoleUser      string `envconfig:"TRAINBOT_CONSOLE_USER" default:"UCONSOLE" desc:"Slack user id the console acts as (a releaser unless listed otherwise)"`
	LogLevel         string `envconfig:"TRAINBOT_LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	AuditMax         string `envconfig:"TRAINBOT_AUDIT_MAX" default:"100000" desc:"audit entries kept, oldest trimmed (1000 to 10000000; Redis keeps up to 100 more; each train's log keeps 1000)"`
	Retention        string `envconfig:"TRAINBOT_RETENTION" default:"400d" desc:"embedded store: finished trains, deploy records, quiet windows and audit entries older than this are deleted (367d to 36500d, or off); Redis keeps them"`
	PrometheusURL    string `envconfig:"TRAINBOT_PROMETHEUS_URL" desc:"Prometheus HTTP API base URL (http(s)://host:9090/) asked, after each successful deploy run, whether instances report the tag; empty: no live verification"`
	VerifyQuery      string `envconfig:"TRAINBOT_VERIFY_QUERY" default:"count(build_info{version=\"{{tag}}\"})" desc:"PromQL instant query whose value is the number of instances running the tag; {{tag}} stands for the tag, inside a quoted label value"`
	VerifyTimeout    string `envconfig:"TRAINBOT_VERIFY_TIMEOUT" default:"15m" desc:"how long after a successful deploy run an instance has to report the tag (1s to 24h); then the train is marked unverified"`
	VerifyPoll       string `envconfig:"TRAINBOT_VERIFY_POLL" default:"5s" desc:"first wait between two queries of the live verification (10ms to 5m); it backs off to 12 times that"`
}

// Mode is what trainbot was started to do; it decides which settings are required.
type Mode string

// The modes that read settings.
const (
	ModeServe    Mode = "serve"
	ModeConsole  Mode = "console"
	ModeCalendar Mode = "calendar"
)

// Config is the parsed, valid settings.
type Config struct {
	SlackAppToken, SlackBotToken string
	SlackAPIURL                  string
	GitHubToken                  string
	GitHubAPIURL                 string
	Owner, Repo                  string
	Branch                       string
	DeployWorkflow               string
	PublishWorkflow              string
	GitHubPoll                   time.Duration
	DryRun                       bool
	RedisURL, RedisPrefix        string
	DataDir                      string
	Channel                      string
	Releasers, ChainOps          []string
	Validators                   []string
	Schedule                     trains.Schedule
	Tick                         time.Duration
	Soak                         time.Duration
	Reminders                    []time.Duration
	InitialLine                  trains.Line
	StagingApprovals             int
	ShutdownGrace                time.Duration
	HTTPAddr                     string
	ConsoleUser                  string
	LogLevel                     string
	AuditMax                     int
	// CalendarPath is the repository path of the calendar file committed
	// at each dev cut; empty: off.
	CalendarPath string
	// Retention is the age past which the embedded store deletes finished
	// trains, deploy records, quiet windows and audit entries (0: never).
	Retention time.Duration
	// PrometheusURL is the Prometheus asked whether a deployed tag is live
	// (empty: off), PrometheusWhere the same without credentials, for
	// messages; VerifyQuery, VerifyTimeout and VerifyPoll say what is
	// asked and for how long.
	PrometheusURL, PrometheusWhere string
	VerifyQuery                    live.Query
	VerifyTimeout, VerifyPoll      time.Duration
	// GitHubApp, when not nil, is the GitHub App installation trainbot
	// authenticates as instead of GitHubToken.
	GitHubApp *deploy.App
}

// The range of TRAINBOT_AUDIT_MAX. Below 1000 the log would not hold a
// busy week, a burst of refused commands would wipe it, Redis's
// approximate trim (up to 100 entries over the cap) would be a tenth of it
// or more, and it would be smaller than one train's own log
// (storage.TrainAuditMax). Above 10 million (about 2 GB of Redis at the
// ~150–250 bytes a typical entry takes) the bound no longer protects the
// store, which is its point (SPEC §7).
const (
	minAuditMax = 1_000
	maxAuditMax = 10_000_000
)

// The range of TRAINBOT_RETENTION, in days. /train stats reads up to 366
// days back, so a shorter retention would make its figures wrong; above
// a hundred years it bounds nothing.
const (
	minRetentionDays = 367
	maxRetentionDays = 36_500
)

// LoadSettings reads the settings from the environment.
func LoadSettings() (Settings, error) {
	var s Settings
	if err := envconfig.Process("", &s); err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	return s, nil
}

var (
	repoRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)
	roleIDRe = regexp.MustCompile(`^[UWS][A-Z0-9]{2,}$`) // Slack's user and user-group id patterns
	chanRe   = regexp.MustCompile(`^[CGD][A-Z0-9]{8,}$`) // Slack's channel id pattern
	fileRe   = regexp.MustCompile(`^[A-Za-z0-9._-]+\.ya?ml$`)
)

// dotName reports whether owner or name of owner/name is "." or "..",
// which a URL path would read as a step, not a name.
func dotName(repo string) bool {
	owner, name, _ := strings.Cut(repo, "/")
	for _, p := range []string{owner, name} {
		if p == "." || p == ".." {
			return true
		}
	}
	return false
}

// Parse checks every setting for mode and returns the typed Config, or an
// error with one line per problem, each naming its variable.
func (s Settings) Parse(mode Mode) (Config, error) {
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}
	c := Config{
		SlackAppToken: s.SlackAppToken, SlackBotToken: s.SlackBotToken, GitHubToken: s.GitHubToken,
		Branch: s.Branch, DeployWorkflow: s.DeployWorkflow, PublishWorkflow: s.PublishWorkflow,
		RedisURL: s.RedisURL, RedisPrefix: s.RedisPrefix, DataDir: s.DataDir, Channel: s.Channel,
		HTTPAddr: s.HTTPAddr, ConsoleUser: s.ConsoleUser, LogLevel: strings.ToLower(s.LogLevel),
	}
	serve := mode == ModeServe

	var err error
	if c.DryRun, err = strconv.ParseBool(s.DryRun); err != nil {
		bad("TRAINBOT_DRY_RUN", "%q is not true or false", s.DryRun)
	}
	if serve && !strings.HasPrefix(s.SlackAppToken, "xapp-") {
		bad("SLACK_APP_TOKEN", "required for serve: the Socket Mode app-level token, starting xapp-")
	}
	if serve && !strings.HasPrefix(s.SlackBotToken, "xoxb-") {
		bad("SLACK_BOT_TOKEN", "required for serve: the bot token, starting xoxb-")
	}
	app, appSet := s.githubApp(bad)
	switch {
	case s.GitHubToken != "" && appSet:
		bad("GITHUB_TOKEN", "set either GITHUB_TOKEN or the GitHub App (GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID, GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE), not both: unset one")
	case serve && s.GitHubToken == "" && !appSet && !c.DryRun:
		bad("GITHUB_TOKEN", "required for serve unless TRAINBOT_DRY_RUN=true, or authenticate as a GitHub App with GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE)")
	}
	c.GitHubApp = app
	if c.SlackAPIURL, err = baseURL(s.SlackAPIURL, "SLACK_BOT_TOKEN"); err != nil {
		bad("SLACK_API_URL", "%v", err)
	}
	if c.GitHubAPIURL, err = baseURL(s.GitHubAPIURL, "GITHUB_TOKEN"); err != nil {
		bad("GITHUB_API_URL", "%v", err)
	}
	switch {
	case s.Repo == "" && serve:
		bad("TRAINBOT_REPO", "required for serve: owner/name of the released repository")
	case s.Repo != "" && !repoRe.MatchString(s.Repo):
		bad("TRAINBOT_REPO", "%q is not owner/name", s.Repo)
	case dotName(s.Repo):
		bad("TRAINBOT_REPO", "%q is not owner/name: neither may be . or ..", s.Repo)
	case s.Repo != "":
		c.Owner, c.Repo, _ = strings.Cut(s.Repo, "/")
	}
	if c.GitHubApp != nil {
		c.GitHubApp.Repo = c.Repo // each installation token reaches the released repository only
	}
	if r, err := trains.ParseUserRef(s.Branch); err != nil {
		bad("TRAINBOT_BRANCH", "%v", err)
	} else if r.Kind != trains.BranchRef {
		bad("TRAINBOT_BRANCH", "%q reads as a commit sha, not a branch name", s.Branch)
	}
	if !fileRe.MatchString(s.DeployWorkflow) {
		bad("TRAINBOT_DEPLOY_WORKFLOW", "%q is not a workflow file name like deploy-simple.yaml", s.DeployWorkflow)
	}
	if s.PublishWorkflow != "" && !fileRe.MatchString(s.PublishWorkflow) {
		bad("TRAINBOT_PUBLISH_WORKFLOW", "%q is not a workflow file name like publish-images.yaml (or empty)", s.PublishWorkflow)
	}
	if s.RedisURL != "" {
		// Never shown: it may hold a password.
		if u, err := url.Parse(s.RedisURL); err != nil || !slices.Contains([]string{"redis", "rediss"}, u.Scheme) {
			bad("REDIS_URL", "not a redis:// or rediss:// URL, e.g. redis://[user:password@]host:port[/db] (the value is not shown, as it may hold a password)")
		}
	} else if strings.TrimSpace(s.DataDir) == "" {
		bad("TRAINBOT_DATA_DIR", "must name a folder when REDIS_URL is empty")
	}
	switch {
	case serve && strings.TrimSpace(s.Channel) == "":
		bad("TRAINBOT_CHANNEL", "required for serve: the validators' channel id such as C0123ABCD (not its #name)")
	case serve && !chanRe.MatchString(s.Channel):
		bad("TRAINBOT_CHANNEL", "%q is not a Slack channel id: one such as C0123ABCD (in Slack: the channel's details, at the bottom; not its #name)", s.Channel)
	}
	for _, r := range []struct {
		name, val string
		dst       *[]string
	}{{"TRAINBOT_RELEASERS", s.Releasers, &c.Releasers}, {"TRAINBOT_CHAINOPS", s.ChainOps, &c.ChainOps}, {"TRAINBOT_VALIDATORS", s.Validators, &c.Validators}} {
		ids, err := roleIDs(r.val)
		if err != nil {
			bad(r.name, "%v", err)
		}
		*r.dst = ids
	}
	dev, err := trains.ParseSlotTime(s.DevSlot)
	if err != nil {
		bad("TRAINBOT_DEV_SLOT", "%v", err)
	}
	stg, stgErr := trains.ParseSlotTime(s.StagingSlot)
	if stgErr != nil {
		bad("TRAINBOT_STAGING_SLOT", "%v", stgErr)
	}
	anchor, anchorErr := time.Parse(time.DateOnly, s.StagingAnchor)
	if anchorErr != nil {
		bad("TRAINBOT_STAGING_ANCHOR", "%q is not a date YYYY-MM-DD", s.StagingAnchor)
	}
	c.Schedule = trains.Schedule{Dev: dev, Staging: stg, StagingAnchor: anchor}
	if stgErr == nil && anchorErr == nil {
		if err := c.Schedule.Validate(); err != nil {
			bad("TRAINBOT_STAGING_ANCHOR", "%v", err)
		}
	}
	if c.GitHubPoll, err = time.ParseDuration(s.GitHubPoll); err != nil || c.GitHubPoll <= 0 || c.GitHubPoll > 5*time.Minute {
		bad("TRAINBOT_GITHUB_POLL", "%q is not a duration from 1ms to 5m, such as 5s", s.GitHubPoll)
	}
	if c.Tick, err = time.ParseDuration(s.Tick); err != nil || c.Tick < 10*time.Millisecond || c.Tick > 10*time.Minute {
		bad("TRAINBOT_SCHEDULER_TICK", "%q is not a duration from 10ms to 10m, such as 30s", s.Tick)
	}
	if c.Soak, err = time.ParseDuration(s.Soak); err != nil || c.Soak < 0 {
		bad("TRAINBOT_SOAK", "%q is not a duration such as 168h", s.Soak)
	}
	if c.Reminders, err = reminders(s.Reminders); err != nil {
		bad("TRAINBOT_REMINDERS", "%v", err)
	}
	if c.InitialLine, err = trains.ParseLine(s.InitialLine); err != nil {
		bad("TRAINBOT_INITIAL_LINE", "%v", err)
	}
	if c.StagingApprovals, err = strconv.Atoi(s.StagingApprovals); err != nil || c.StagingApprovals < 0 || c.StagingApprovals > 20 {
		bad("TRAINBOT_STAGING_APPROVALS", "%q is not a whole number from 0 to 20", s.StagingApprovals)
	}
	if c.ShutdownGrace, err = time.ParseDuration(s.ShutdownGrace); err != nil || c.ShutdownGrace < 0 || c.ShutdownGrace > time.Hour {
		bad("TRAINBOT_SHUTDOWN_GRACE", "%q is not a duration from 0s to 1h, such as 20s", s.ShutdownGrace)
	}
	if s.CalendarPath != "" {
		if err := deploy.CheckFilePath(s.CalendarPath); err != nil {
			bad("TRAINBOT_CALENDAR_PATH", "%q is not a file path in the repository: write it relative to the repository's root with letters, digits, \".\", \"_\", \"-\" and \"/\" only, e.g. %s, or leave it empty to keep no calendar file", s.CalendarPath, trains.CalendarPath)
		}
		c.CalendarPath = s.CalendarPath
	}
	if _, _, err := net.SplitHostPort(s.HTTPAddr); err != nil {
		bad("TRAINBOT_HTTP_ADDR", "%q is not host:port, e.g. :8080", s.HTTPAddr)
	}
	if mode == ModeConsole && !roleIDRe.MatchString(s.ConsoleUser) {
		bad("TRAINBOT_CONSOLE_USER", "%q is not a Slack user id such as U0123ABCD", s.ConsoleUser)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		bad("TRAINBOT_LOG_LEVEL", "%q is not debug, info, warn or error", s.LogLevel)
	}
	if c.AuditMax, err = strconv.Atoi(s.AuditMax); err != nil || c.AuditMax < minAuditMax || c.AuditMax > maxAuditMax {
		bad("TRAINBOT_AUDIT_MAX", "%q is not a whole number from %d to %d, such as 100000", s.AuditMax, minAuditMax, maxAuditMax)
	}
	if c.Retention, err = parseRetention(s.Retention); err != nil {
		bad("TRAINBOT_RETENTION", "%q is not a number of days from %dd to %dd, such as 400d, or off to keep everything (/train stats reads up to 366 days back)", s.Retention, minRetentionDays, maxRetentionDays)
	}
	if s.PrometheusURL != "" {
		if c.PrometheusWhere, err = prometheusURL(s.PrometheusURL); err != nil {
			bad("TRAINBOT_PROMETHEUS_URL", "%v", err)
		}
		c.PrometheusURL = s.PrometheusURL
	}
	if c.VerifyQuery, err = live.ParseQuery(s.VerifyQuery); err != nil && (s.PrometheusURL != "" || strings.TrimSpace(s.VerifyQuery) != "") {
		bad("TRAINBOT_VERIFY_QUERY", "%v", err)
	}
	if c.VerifyTimeout, err = time.ParseDuration(s.VerifyTimeout); err != nil || c.VerifyTimeout < time.Second || c.VerifyTimeout > 24*time.Hour {
		bad("TRAINBOT_VERIFY_TIMEOUT", "%q is not a duration from 1s to 24h, such as 15m", s.VerifyTimeout)
	}
	if c.VerifyPoll, err = time.ParseDuration(s.VerifyPoll); err != nil || c.VerifyPoll < 10*time.Millisecond || c.VerifyPoll > 5*time.Minute {
		bad("TRAINBOT_VERIFY_POLL", "%q is not a duration from 10ms to 5m, such as 5s", s.VerifyPoll)
	}
	if len(problems) > 0 {
		// in the order of the settings table
		slices.SortStableFunc(problems, func(a, b string) int { return settingIndex(a) - settingIndex(b) })
		return Config{}, errors.New(strings.Join(problems, "\n"))
	}
	return c, nil
}

// settingIndex is the position in Settings of the variable a problem line names.
func settingIndex(problem string) int {
	name, _, _ := strings.Cut(problem, ":")
	t := reflect.TypeOf(Settings{})
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("envconfig") == name {
			return i
		}
	}
	return t.NumField()
}

// baseURL checks an API base URL and makes it end in "/". tokenVar names
// the setting the API's token belongs in.
//
// Its errors, which go to the start-up log, never show the value: a base
// URL may have been given a token, in the user info
// (https://x-access-token:ghp_…@host/, where url.URL.Redacted would hide
// only the password, or https://ghp_…@host/ where it hides nothing), in the
// query, or instead of the URL (a token pasted into the wrong variable).
// They show at most the scheme and host of a URL that parses.
func baseURL(s, tokenVar string) (string, error) {
	const notShown = " (the value is not shown, as it may hold a token)"
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error quotes the input, and its reason can quote part
		// of it: neither is passed on.
		return "", errors.New("does not parse as a URL: write it as https://host/path/" + notShown)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("is not an http(s) URL with a host, such as https://host/path/" + notShown)
	}
	shown := u.Scheme + "://" + u.Host + "/…"
	if u.User != nil {
		return "", fmt.Errorf("%s must not carry credentials: put the token in %s", shown, tokenVar)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%s must not have a query or fragment (?… or #…): give the base URL alone, and the token in %s", shown, tokenVar)
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// prometheusURL checks TRAINBOT_PROMETHEUS_URL and returns it as shown in
// messages: scheme, host and path. It may carry a user and password for
// basic auth; neither is ever shown, nor is the value in an error.
func prometheusURL(s string) (string, error) {
	const notShown = " (the value is not shown, as it may hold a password)"
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("is not an http(s) URL with a host, such as http://prometheus:9090/" + notShown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%s://%s/… must not have a query or fragment (?… or #…): give the API's base URL alone", u.Scheme, u.Host)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(), nil
}

// roleIDs splits a comma-separated list of Slack user and user-group ids.
func roleIDs(s string) ([]string, error) {
	var ids, badIDs []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case roleIDRe.MatchString(f):
			if !slices.Contains(ids, f) {
				ids = append(ids, f)
			}
		default:
			badIDs = append(badIDs, strconv.Quote(f))
		}
	}
	if len(badIDs) > 0 {
		return ids, fmt.Errorf("%s not a Slack user (U…, W…) or user-group (S…) id; use ids, not @names",
			strings.Join(badIDs, ", ")+trains.Plural(len(badIDs), " is", " are"))
	}
	return ids, nil
}

// reminders parses the reminder lead times, longest first.
func reminders(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := trains.ParseDuration(f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return int(b - a) })
	return out, nil
}

// writeSettingsHelp writes every setting with its default and meaning.
func writeSettingsHelp(w *tabwriter.Writer) {
	t := reflect.TypeOf(Settings{})
	fmt.Fprintln(w, "VARIABLE\tDEFAULT\tMEANING")
	for i := range t.NumField() {
		f := t.Field(i)
		def := f.Tag.Get("default")
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", f.Tag.Get("envconfig"), def, f.Tag.Get("desc"))
	}
}

// parseRetention reads TRAINBOT_RETENTION: "Nd" with N in range, or "off" (0).
func parseRetention(v string) (time.Duration, error) {
	if v == "off" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || !strings.HasSuffix(v, "d") || strings.HasPrefix(v, "+") || n < minRetentionDays || n > maxRetentionDays {
		return 0, errors.New("out of range")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// settingNames are the names of every setting: the environment variables
// trainbot reads, from Settings' envconfig tags.
func settingNames() []string {
	st := reflect.TypeOf(Settings{})
	names := make([]string, 0, st.NumField())
	for i := range st.NumField() {
		names = append(names, st.Field(i).Tag.Get("envconfig"))
	}
	return names
}
