package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/trains"
)

// runServe runs `trainbot serve`: the Socket Mode bot, the scheduler (on
// the replica holding the leader lease) and the HTTP endpoints, until ctx
// ends; then it stops taking envelopes, finishes in-flight work within a
// bound and releases its locks and lease.
func runServe(ctx context.Context, args []string, e env) error {
	if len(args) > 0 {
		fmt.Fprintln(e.stderr, "trainbot serve takes no arguments: it reads its settings from the environment (trainbot -h)")
		return errUsage
	}
	c, err := config(ModeServe)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, c.LogLevel, true)
	version, commit := buildInfo()
	log.Info("trainbot starting", "version", version, "commit", commit, "repo", c.Owner+"/"+c.Repo, "dry_run", c.DryRun)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := newMetrics(reg, version, commit)

	// The service's background work outlives ctx by the drain bound.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	store, closer, err := openStore(ctx, c, e.clock, log, metrics.StoreError)
	if err != nil {
		return err
	}
	defer closer.Close()

	// Groups are read from Slack up to bot.DefaultGroupsConcurrentReads at
	// a time: keep that many connections open, not http's default two.
	slackTransport := http.DefaultTransport.(*http.Transport).Clone()
	slackTransport.MaxIdleConnsPerHost = 2 * bot.DefaultGroupsConcurrentReads
	api := slack.New(c.SlackBotToken, slack.OptionAppLevelToken(c.SlackAppToken), slack.OptionAPIURL(c.SlackAPIURL),
		slack.OptionHTTPClient(&http.Client{Transport: slackTransport}))
	if _, err := api.AuthTestContext(ctx); err != nil {
		return fmt.Errorf("auth.test: Slack refused SLACK_BOT_TOKEN (%w): check the token and that the app is installed", err)
	}
	sm := socketmode.New(api)

	// Below trainbot's conditional requests and retries: every response
	// GitHub sends is counted and its rate limit shown.
	httpClient := &http.Client{Transport: promhttp.InstrumentRoundTripperCounter(metrics.GitHubRequests,
		deploy.WatchRateLimit(http.DefaultTransport, metrics.GitHubRateLimit))}
	gh, err := githubClient(ctx, c, httpClient, log, appCheckTimeout)
	if err != nil {
		return err
	}
	repoOpts := []deploy.Option{deploy.WithLogger(log)}
	if objs, ok := store.(trains.TagObjectCache); ok {
		repoOpts = append(repoOpts, deploy.WithTagObjectCache(objs)) // both stores keep tag objects
	}
	ghRepo, err := deploy.New(gh, deploy.Config{Owner: c.Owner, Repo: c.Repo, Branch: c.Branch,
		DeployWorkflow: c.DeployWorkflow, PublishWorkflow: c.PublishWorkflow, PollMin: c.GitHubPoll, PollMax: 6 * c.GitHubPoll},
		repoOpts...)
	if err != nil {
		return err
	}
	var repo trains.Repo = ghRepo
	var calendar trains.CalendarPublisher = ghRepo
	if c.DryRun {
		repo = deploy.DryRun(ghRepo, logWriter{log.With("part", "dry-run")})
		calendar = nil
		if c.CalendarPath != "" {
			log.Info("dry run: the calendar file is not committed; trainbot calendar prints it", "path", c.CalendarPath)
		}
	}

	groups := bot.NewGroups(api, bot.GroupsConfig{Clock: e.clock, Logger: log})
	roles := bot.NewDirectory(c.Releasers, c.ChainOps, c.Validators, groups)
	names := bot.NewNames(api, bot.NamesConfig{Clock: e.clock, Logger: log.With("part", "names")})
	announcer := bot.NewAnnouncer(api, c.Channel, bot.WithAnnouncerLogger(log))
	liveVer, err := liveVersions(c, log)
	if err != nil {
		return err
	}
	svc := trains.NewService(serviceConfig(c, instanceName()), trains.Deps{Store: store, Repo: repo,
		Announcer: announcer, Roles: roles, Clock: e.clock, Log: log.With("part", "trains"), Observer: metrics,
		Calendar: calendar, Live: liveVer, Names: names})
	cmds, err := commandsFor(svc, log, metrics)
	if err != nil {
		return err
	}
	b := bot.New(bot.Config{DrainTimeout: c.ShutdownGrace}, bot.Deps{Socket: sm, API: api, Handler: cmds, Store: store, Logger: log, Metrics: metrics, Clock: e.clock})

	mux := bot.NewHTTPHandler(bot.HTTPConfig{Slack: b, Store: store, Gatherer: reg})
	ics, page := bot.CalendarHandlers(bot.CalendarConfig{Source: func(ctx context.Context) (trains.Calendar, error) {
		return svc.Calendar(ctx, trains.CalendarOptions{Count: 12})
	}, Names: names, Repo: c.Owner + "/" + c.Repo, Log: log.With("part", "calendar")})
	mux.Handle("GET /calendar.ics", ics)
	mux.Handle("GET /calendar", page)
	srv := newHTTPServer(work, mux, defaultHTTPTimeouts)
	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on TRAINBOT_HTTP_ADDR %s: %w", c.HTTPAddr, err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("http listening", "addr", ln.Addr().String())

	// Trains run under work, which outlives ctx by the shutdown grace.
	trainsDone := make(chan struct{})
	go func() { defer close(trainsDone); _ = svc.Run(work) }()
	schedDone := make(chan struct{})
	go func() { defer close(schedDone); runScheduler(ctx, svc, c.Tick, metrics) }()

	runErr := b.Run(ctx) // returns when ctx ends, after draining commands

	<-schedDone // the scheduler lease is released
	if !waitBounded(c.ShutdownGrace, svc.Wait) {
		log.Warn("trains still running at shutdown: they stop at their current step and resume at the next start")
	}
	stopWork()
	<-trainsDone // runners release their track locks as they stop
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	log.Info("trainbot stopped")
	return runErr
}

// newMetrics registers trainbot's metrics on reg, with a series of
// trainbot_command_duration_seconds for each command of the table.
func newMetrics(reg prometheus.Registerer, version, commit string) *bot.Metrics {
	return bot.NewMetrics(reg, version, commit, commands.Names()...)
}
