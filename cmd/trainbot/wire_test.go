package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/bot"
	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/trainstack"
)

const commandDuration = "trainbot_command_duration_seconds"

// commandSamples is how many commands the registry's
// trainbot_command_duration_seconds has counted under each label it has.
func commandSamples(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != commandDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "command" {
					n[l.GetValue()] += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return n
}

func total(n map[string]uint64) uint64 {
	var s uint64
	for _, v := range n {
		s += v
	}
	return s
}

// TestEveryCommandHasAMetricLabelAndHelp: with serve's wiring (newMetrics,
// commandsFor), each command of the table has its own series of
// trainbot_command_duration_seconds from the start, running it counts one
// sample under its name (not "other"), and help lists and explains it.
func TestEveryCommandHasAMetricLabelAndHelp(t *testing.T) {
	t.Parallel()
	st := trainstack.New(t, trainstack.At("2026-12-01 10:00"), trainstack.Options{})
	reg := prometheus.NewRegistry()
	metrics := newMetrics(reg, "test", "abc123")
	cmds, err := commandsFor(st.Svc, trainstack.Logger(t), metrics)
	if err != nil {
		t.Fatal(err)
	}
	names := commands.Names()
	for _, want := range []string{"help", "cut", "hotfix", "approve", "confirm", "skip", "pause"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("commands.Names() = %v lacks %q", names, want)
		}
	}
	start := commandSamples(t, reg)
	for _, name := range append(names, bot.OtherCommand) {
		if n, ok := start[name]; !ok || n != 0 {
			t.Errorf("before any command, %s{command=%q} is %d (a series: %v), want a series with no samples", commandDuration, name, n, ok)
		}
	}
	if len(start) != len(names)+1 {
		t.Errorf("%s has series %v before any command, want one per command and other", commandDuration, start)
	}
	do := func(text string) string {
		return cmds.Handle(t.Context(), commands.Request{User: trainstack.Stranger, Text: text, Channel: "C0CHANNEL1"}).Message.Plain()
	}
	all := do("help")
	for i, name := range names {
		if !strings.Contains(all, "/train "+name) {
			t.Errorf("/train help does not list %s:\n%s", name, all)
		}
		one := do("help " + name)
		if usage, about, _ := strings.Cut(one, " — "); !strings.HasPrefix(usage, "/train "+name) || len(about) < 10 || !strings.Contains(one, "Who: ") {
			t.Errorf("/train help %s does not explain it:\n%s", name, one)
		}
		before := commandSamples(t, reg)
		do(name) // by someone with no role: shows, or refuses, nothing more
		after := commandSamples(t, reg)
		if after[name] != before[name]+1 || total(after) != total(before)+1 {
			t.Errorf("/train %s: %s{command=%q} went from %d to %d, all commands from %d to %d; want one more of each",
				name, commandDuration, name, before[name], after[name], total(before), total(after))
		}
		if want := uint64(1 + 2*(i+1)); total(after) != want { // the first help, then each help and command once
			t.Errorf("after %d commands %s counts %d", want, commandDuration, total(after))
		}
	}
	if got := commandSamples(t, reg)[bot.OtherCommand]; got != 0 {
		t.Errorf("%d commands of the table were counted as %q", got, bot.OtherCommand)
	}
	do("frobnicate")
	do(strings.Repeat("x", 5000))
	if got := commandSamples(t, reg)[bot.OtherCommand]; got != 2 {
		t.Errorf("text naming no command counted %d times as %q, want 2", got, bot.OtherCommand)
	}
	if len(st.GH.Tags()) != 0 || len(st.GH.Dispatches()) != 0 {
		t.Error("running every command by a stranger changed GitHub")
	}
}

// TestButtonClickIsLabelledWithItsCommand: the buttons of a real reminder,
// posted to slackfake by the bot's Announcer and clicked through the real
// slack-go Socket Mode client, are counted once each, under the command
// they run: confirm and skip (the bot's own copy of the command list,
// which lacked them, counted them as "other").
func TestButtonClickIsLabelledWithItsCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	fake := slackfake.NewForTest(t, slackfake.Options{
		PingInterval: 50 * time.Millisecond,
		Channels:     []slackfake.Channel{{ID: "C0CHANNEL1", Name: "validators"}},
		Users:        []slackfake.User{{ID: trainstack.Releaser, Name: "rel"}},
	})
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	st := trainstack.New(t, trainstack.At("2026-12-01 10:00"), trainstack.Options{Announcer: bot.NewAnnouncer(api, "C0CHANNEL1")})
	reg := prometheus.NewRegistry()
	metrics := newMetrics(reg, "test", "abc123")
	cmds, err := commandsFor(st.Svc, trainstack.Logger(t), metrics)
	if err != nil {
		t.Fatal(err)
	}
	b := bot.New(bot.Config{}, bot.Deps{Socket: socketmode.New(api), API: api, Handler: cmds, Store: st.Store,
		Logger: trainstack.Logger(t), Metrics: metrics, Clock: st.Clock})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fake.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	// The dev train leaves at 14:00: the tick at 10:00 posts its reminder.
	if err := st.Svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	reminder, err := fake.WaitMessage(ctx, func(m slackfake.Message) bool {
		return m.Channel == "C0CHANNEL1" && strings.Contains(m.AllText(), "dev-2026-12-01") && strings.Contains(m.AllText(), "I'm on it")
	})
	if err != nil {
		t.Fatalf("no reminder with buttons: %v", err)
	}
	click := func(action, reply string) {
		t.Helper()
		ack, err := fake.Click(ctx, trainstack.Releaser, reminder, action)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fake.WaitResponse(ctx, ack.Envelope.ResponseURL, func(p slackfake.ResponsePost) bool {
			return strings.Contains(p.Text, reply)
		}); err != nil {
			t.Fatalf("no reply %q to the %s click: %v; posts %+v", reply, action, err, fake.ResponsePosts(ack.Envelope.ResponseURL))
		}
	}
	// The handler counts a command before its reply goes out: once the
	// reply is there, the command is counted.
	click("confirm", "You confirmed")
	if got := commandSamples(t, reg); got["confirm"] != 1 || total(got) != 1 {
		t.Errorf("after the confirm click %s counts %v, want confirm once and nothing else", commandDuration, got)
	}
	click("skip", "is skipped")
	if got := commandSamples(t, reg); got["confirm"] != 1 || got["skip"] != 1 || total(got) != 2 {
		t.Errorf("after the skip click %s counts %v, want confirm and skip once each and nothing else", commandDuration, got)
	}
}

// Two replicas may share a host name and a process id (containers on the
// host's network, each its own pid 1): their lease holders must still
// differ, or each would take the other's lease for its own.
func TestInstanceNamesDifferOnTheSameHostAndPid(t *testing.T) {
	a, b := instanceName(), instanceName()
	if a == b {
		t.Fatalf("two instances in one process are both named %q", a)
	}
	host, _ := os.Hostname()
	if !strings.HasPrefix(a, host+"/") {
		t.Errorf("instance %q does not name the host %q, for the operator reading a lease", a, host)
	}
}
