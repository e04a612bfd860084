package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/storage"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
)

// This file holds the wiring serve and console share.

// newLogger returns the log: JSON for serve, text for the console.
func newLogger(w io.Writer, level string, json bool) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens Redis or the embedded store, as the settings say.
// onError, if not nil, is called on every failed store call.
func openStore(ctx context.Context, c Config, clock trains.Clock, log *slog.Logger, onError func()) (trains.Store, io.Closer, error) {
	redisstore.RouteLogs(log)
	store, closer, desc, err := storage.Open(ctx, storage.Config{RedisURL: c.RedisURL, Prefix: c.RedisPrefix, DataDir: c.DataDir, OnError: onError, AuditMax: c.AuditMax, Retention: c.Retention}, clock, log)
	if err != nil {
		return nil, nil, fmt.Errorf("open the state store: %w", err)
	}
	log.Info(desc)
	return store, closer, nil
}

// serviceConfig is the trains service's part of the settings.
func serviceConfig(c Config, instance string) trains.ServiceConfig {
	repo := ""
	if c.Owner != "" {
		repo = c.Owner + "/" + c.Repo
	}
	return trains.ServiceConfig{
		Schedule: c.Schedule, Soak: c.Soak, Reminders: c.Reminders, InitialLine: c.InitialLine,
		StagingApprovals: c.StagingApprovals, Repo: repo,
		DeployWorkflow: c.DeployWorkflow, PublishWorkflow: c.PublishWorkflow, DryRun: c.DryRun, Instance: instance,
		CalendarPath: c.CalendarPath, VerifyTimeout: c.VerifyTimeout, VerifyPoll: c.VerifyPoll,
	}
}

// instanceName names this replica in leases: host, process and a random
// part. Host and process alone are not unique: containers on the host's
// network share its name and are each their own pid 1, and a replica that
// took another's lease holder for its own would run the same train.
func instanceName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "trainbot"
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// commandsFor builds the command set over svc. metrics, if not nil,
// records each command's duration under its name: the commands observe it
// (commands.Deps.Observe), once per command typed or clicked.
func commandsFor(svc *trains.Service, log *slog.Logger, metrics *bot.Metrics) (*commands.Commands, error) {
	deps := commands.Deps{Service: svc, Log: log}
	if metrics != nil {
		deps.Observe = metrics.ObserveCommand
	}
	return commands.New(deps)
}

// waitBounded waits for f to return, at most d.
func waitBounded(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// logWriter writes each line it is given to a log, for the dry run's reports.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			w.log.Info(line)
		}
	}
	return len(p), nil
}

// runScheduler runs svc's scheduler until ctx ends: it ticks at once, at
// each due moment, and at least every poll (TRAINBOT_SCHEDULER_TICK).
// metrics (nil: none) shows whether this replica leads
// (trainbot_scheduler_leader).
func runScheduler(ctx context.Context, svc *trains.Service, poll time.Duration, metrics *bot.Metrics) {
	svc.RunScheduler(ctx, trains.SchedulerConfig{Poll: poll, Leading: metrics.SchedulerLeader})
}
