// Command trainbot runs release trains from Slack: see README.md and
// `trainbot -h`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/trains"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// env is what run needs from the process: its streams and a clock.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	clock          trains.Clock
}

// errUsage marks a command line that was not understood; main exits 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, clock: trains.SystemClock{}}
	if err := run(ctx, os.Args[1:], e); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run runs the subcommand named by args[0].
func run(ctx context.Context, args []string, e env) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "-h", "-help", "--help", "help":
		writeHelp(e.stdout)
		return nil
	case "version":
		fmt.Fprintln(e.stdout, versionLine())
		return nil
	case "calendar":
		return runCalendar(ctx, args, e)
	case "serve":
		return runServe(ctx, args, e)
	case "console":
		return runConsole(ctx, args, e)
	}
	fmt.Fprintf(e.stderr, "trainbot: unknown command %q\n\n", cmd)
	writeHelp(e.stderr)
	return errUsage
}

// config loads and parses the settings for mode.
func config(mode Mode) (Config, error) {
	s, err := LoadSettings()
	if err != nil {
		return Config{}, err
	}
	c, err := s.Parse(mode)
	if err != nil {
		return Config{}, fmt.Errorf("trainbot cannot start, fix these settings:\n%w", err)
	}
	return c, nil
}

// runCalendar prints the Markdown calendar (docs/governance/release-calendar.md):
// from the settings and, when there is one, the state store (the rotation,
// quiet windows and hotfixes). A store that cannot be read is reported and
// the calendar printed from the settings alone. People are shown by name
// when SLACK_BOT_TOKEN is set (calendarNames), else by Slack id.
func runCalendar(ctx context.Context, args []string, e env) error {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "trainbot calendar takes no arguments; it prints the Markdown of %s\n", trains.CalendarPath)
		return errUsage
	}
	c, err := config(ModeCalendar)
	if err != nil {
		return err
	}
	in := trains.CalendarInput{Now: e.clock.Now(), Schedule: c.Schedule}
	if c.RedisURL != "" || fileExists(filepath.Join(c.DataDir, boltstore.FileName)) {
		if st, err := storedCalendar(ctx, c, e, in.Now); err != nil {
			fmt.Fprintf(e.stderr, "trainbot calendar: %v; printing the calendar from the settings alone\n", err)
		} else {
			in.Rotation, in.Windows, in.Trains = st.Rotation, st.Windows, st.Trains
		}
	}
	names := calendarNames(c, e)
	_, err = io.WriteString(e.stdout, trains.BuildCalendar(in).Markdown(trains.NameFunc(ctx, names)))
	return err
}

// calendarNames is where `trainbot calendar` finds people's names: Slack's
// users.info when SLACK_BOT_TOKEN is set, as on a machine that runs the
// bot; nil otherwise (the console's, or one with no Slack), and the
// calendar then shows Slack ids. A name Slack cannot give shows the id,
// with a warning on stderr.
func calendarNames(c Config, e env) trains.Names {
	if c.SlackBotToken == "" {
		return nil
	}
	api := slack.New(c.SlackBotToken, slack.OptionAPIURL(c.SlackAPIURL))
	return bot.NewNames(api, bot.NamesConfig{Clock: e.clock, Logger: newLogger(e.stderr, "warn", false)})
}

// storedCalendar reads what the calendar needs from the state store.
func storedCalendar(ctx context.Context, c Config, e env, now time.Time) (trains.CalendarState, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	log := newLogger(io.Discard, "error", false)
	store, closer, err := openStore(ctx, c, e.clock, log, nil)
	if err != nil {
		return trains.CalendarState{}, err
	}
	defer closer.Close()
	st, err := trains.ReadCalendarState(ctx, store, now, trains.TrainQuery{From: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		return st, fmt.Errorf("read the state store: %w", err)
	}
	return st, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// buildInfo returns the version and the commit the binary was built from.
func buildInfo() (string, string) {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	return version, commit
}

// versionLine is "trainbot <version> (commit <commit>)".
func versionLine() string {
	v, c := buildInfo()
	return fmt.Sprintf("trainbot %s (commit %s)", v, c)
}

func writeHelp(w io.Writer) {
	fmt.Fprint(w, `trainbot runs release trains from Slack (weekly dev, bi-weekly staging, hotfixes).

Usage:
  trainbot [command]

Commands:
  serve      run the Slack bot (Socket Mode) — the default
  console    type /train commands in a terminal, with no Slack, Redis or GitHub
  calendar   print the release calendar as Markdown (`+trains.CalendarPath+`);
             people by name when SLACK_BOT_TOKEN is set, else by Slack id
  version    print the version
  help, -h   print this help

Settings (environment variables):
`)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	writeSettingsHelp(tw)
	tw.Flush()
}
