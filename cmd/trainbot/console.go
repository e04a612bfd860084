package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/trains"
)

// runConsole runs `trainbot console`: /train commands typed in a terminal
// as TRAINBOT_CONSOLE_USER, over the embedded store (or Redis when REDIS_URL
// is set) and a local git repository; dispatches are printed, not made.
func runConsole(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	repoDir := fs.String("repo", ".", "the local git repository whose tags the console makes")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "trainbot console takes no arguments but --repo DIR\n")
		return errUsage
	}
	c, err := config(ModeConsole)
	if err != nil {
		return err
	}
	// The terminal is for the conversation: below warnings, the log only
	// speaks when asked for (TRAINBOT_LOG_LEVEL=debug).
	level := c.LogLevel
	if level == "info" {
		level = "warn"
	}
	log := newLogger(e.stderr, level, false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	store, closer, err := openStore(ctx, c, e.clock, log, nil)
	if err != nil {
		return err
	}
	defer closer.Close()

	con := &bot.Console{In: e.stdin, Out: e.stdout, User: c.ConsoleUser}
	var repo trains.Repo = deploy.NewLocal(*repoDir, c.Branch, c.DeployWorkflow, e.stdout, deploy.WithClock(e.clock))
	if c.DryRun {
		repo = deploy.DryRun(repo, e.stdout)
	}
	if _, err := repo.Head(ctx); err != nil {
		return fmt.Errorf("the console releases a local git repository, and %s has no branch %s: %w (run it inside a repository, or pass --repo DIR)", *repoDir, c.Branch, err)
	}
	releasers := c.Releasers
	if !slices.Contains(releasers, c.ConsoleUser) {
		releasers = append(slices.Clone(releasers), c.ConsoleUser)
	}
	roles := bot.NewDirectory(releasers, c.ChainOps, c.Validators, nil)
	cfg := serviceConfig(c, instanceName())
	if cfg.Repo == "" {
		cfg.Repo = *repoDir
	}
	if cfg.CalendarPath != "" {
		// The console never writes into the local repository's files or
		// branches (someone may be working in it); no publisher is given.
		fmt.Fprintf(e.stdout, "trainbot console: TRAINBOT_CALENDAR_PATH is set, but the console does not commit the calendar file to a local repository; write it with `trainbot calendar > %s`.\n", cfg.CalendarPath)
	}
	svc := trains.NewService(cfg, trains.Deps{Store: store, Repo: repo, Announcer: con.Announcer("#validators"),
		Roles: roles, Clock: e.clock, Log: log.With("part", "trains")})
	cmds, err := commandsFor(svc, log, nil) // no metrics in a terminal
	if err != nil {
		return err
	}
	con.Handler = cmds

	trainsDone := make(chan struct{})
	go func() { defer close(trainsDone); _ = svc.Run(ctx) }()
	schedDone := make(chan struct{})
	go func() { defer close(schedDone); runScheduler(ctx, svc, c.Tick, nil) }()

	fmt.Fprintf(e.stdout, "trainbot console: you are <@%s>; commands as in Slack without /train (help, calendar, cut dev …); exit to quit.\n", c.ConsoleUser)
	runErr := con.Run(ctx)
	// Let trains that were cut finish their steps (locally they are quick).
	if !waitBounded(30*time.Second, svc.Wait) {
		log.Warn("trains still running at exit: they continue at the next start")
	}
	cancel()
	<-schedDone
	<-trainsDone
	if errors.Is(runErr, context.Canceled) {
		return nil
	}
	return runErr
}
