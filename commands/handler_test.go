package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

const (
	releaser  = trainstack.Releaser
	validator = trainstack.Validator
	chainOps  = trainstack.ChainOps
	stranger  = trainstack.Stranger
)

type harness struct {
	*trainstack.Stack
	cmds *commands.Commands
}

func newHarness(t *testing.T, now string) *harness {
	t.Helper()
	st := trainstack.New(t, trainstack.At(now), trainstack.Options{})
	cmds, err := commands.New(commands.Deps{Service: st.Svc, Log: trainstack.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{Stack: st, cmds: cmds}
}

// do runs text as user and returns the reply as plain text.
func (h *harness) do(t *testing.T, user, text string) (string, bool) {
	t.Helper()
	r := h.cmds.Handle(t.Context(), commands.Request{User: user, Text: text, Channel: "C0CHANNEL1"})
	return r.Message.Plain(), r.Refused
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("reply lacks %q:\n%s", w, got)
		}
	}
}

func TestBadInputGetsUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	tests := []struct {
		user, text string
		wants      []string
	}{
		{releaser, "cutt dev", []string{"I don't know the command", "Did you mean", "/train cut dev|staging"}},
		{releaser, "frobnicate", []string{"I don't know the command", "/train help"}},
		{releaser, "cut", []string{"Say which track", "Usage: /train cut"}},
		{releaser, "cut prod", []string{`"prod" is not dev or staging`, "Usage: /train cut"}},
		{releaser, "cut dev --fast", []string{"unknown flag --fast", "Usage: /train cut"}},
		{chainOps, "pause 6x re-roll", []string{`"6x" is not a duration`, "Usage: /train pause"}},
		{chainOps, "pause 6h", []string{"needs a reason", "Usage: /train pause"}},
		{chainOps, "pause until tomorrow re-roll", []string{`"tomorrow" is not a time`}},
		{chainOps, "pause from 2026-12-02 18:00 to 2026-12-03 re-roll", []string{"until <time>"}},
		{releaser, "hotfix abc", []string{"Say what to ship and why"}},
		{releaser, "approve", []string{"Say which train", "Usage: /train approve"}},
		{validator, "approve tomorrow", []string{`"tomorrow" is not a train id`}},
		{releaser, "oncall rotation ana bob", []string{"is not a person", "Usage: /train oncall"}},
		{releaser, "oncall juggle", []string{"not an oncall subcommand"}},
		{releaser, "line 0.6", []string{"is not a release line"}},
		{releaser, "history many", []string{"is not a number from 1 to 50"}},
		{releaser, "stats forever", []string{"is not a number of days"}},
		{releaser, "changes main", []string{"is not a train tag"}},
		{releaser, "resume now", []string{"takes no arguments"}},
		{releaser, strings.Repeat("x", 20*1024), []string{"too long for a command"}},
	}
	for _, tt := range tests {
		got, refused := h.do(t, tt.user, tt.text)
		if !refused {
			t.Errorf("%q was not refused: %s", truncate(tt.text), got)
		}
		mustContain(t, got, tt.wants...)
	}
	if len(h.GH.Tags()) != 0 || len(h.GH.Dispatches()) != 0 {
		t.Error("bad input changed GitHub")
	}
	// Empty text is help.
	got, refused := h.do(t, stranger, "   ")
	if refused {
		t.Error("help refused")
	}
	mustContain(t, got, "/train cut dev|staging", "/train pause", "/train stats")
	got, _ = h.do(t, stranger, "help cut")
	mustContain(t, got, "Who: releasers")
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestRolesRefusedAndAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	h.GH.AddCommits("main", 1)
	for _, tt := range []struct{ text, need string }{
		{"cut dev", "releasers"},
		{"line 0.9.0", "releasers"},
		{"oncall rotation <@U01> <@U02>", "releasers"},
		{"pause 2h chain upgrade", "chain ops or releasers"},
		{"resume", "chain ops or releasers"},
		{"approve next-staging", "validators"},
		{"confirm next-dev", "the train's on-call or releasers"},
		{"skip next-dev", "the train's on-call or releasers"},
		{"hotfix main urgent", "releasers, validators or the next train's on-call"},
	} {
		got, refused := h.do(t, stranger, tt.text)
		if !refused {
			t.Errorf("%q by a stranger was not refused", tt.text)
		}
		mustContain(t, got, "Only "+tt.need+" may do that", "Nothing was changed")
	}
	if len(h.GH.Tags()) != 0 {
		t.Error("a refused command made a tag")
	}
	log, err := h.Store.AuditLog(t.Context(), "", 50)
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	for _, e := range log {
		if e.User == stranger && strings.HasPrefix(e.Result, "refused") {
			refusals++
		}
	}
	if refusals != 9 {
		t.Errorf("%d refusals in the audit log, want 9: %+v", refusals, log)
	}
	// Anyone may look, and dry-run.
	for _, text := range []string{"calendar", "history", "stats 7d", "oncall", "pause", "cut dev --dry-run"} {
		if got, refused := h.do(t, stranger, text); refused {
			t.Errorf("%q refused for a stranger: %s", text, got)
		}
	}
}

func TestCutAndPauseFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	h.GH.AddTag("v0.5.0-staging.1", h.GH.Head("main"))
	h.GH.AddCommits("main", 2)

	got, _ := h.do(t, stranger, "cut dev --dry-run")
	mustContain(t, got, "Dry run", "v0.5.0-dev.1", "ref=v0.5.0-dev.1 environment=dev release_type=dev", "Nothing was tagged")
	// With an earlier dev tag, the preview lists the commits since it.
	h.GH.AddTag("v0.4.0-dev.9", h.GH.Head("main"))
	newest := h.GH.AddCommit("main", "fix the validator panic", time.Time{})
	got, _ = h.do(t, stranger, "cut dev --dry-run")
	mustContain(t, got, "v0.5.0-dev.1", "1 commit(s) since v0.4.0-dev.9", newest[:7]+" fix the validator panic")
	fix := newest

	got, refused := h.do(t, chainOps, "pause 2h mtest-val-01 re-roll <!channel> <https://evil.example|click>")
	if refused {
		t.Fatalf("pause refused: %s", got)
	}
	mustContain(t, got, "Quiet window declared", "@channel", "click (https://evil.example)")
	active, _, _ := h.Svc.Windows(t.Context())
	if len(active) != 1 || active[0].Reason != "mtest-val-01 re-roll @channel click (https://evil.example)" {
		t.Fatalf("stored window: %+v", active)
	}
	got, refused = h.do(t, releaser, "cut dev")
	if !refused {
		t.Error("cut during a window was not refused")
	}
	mustContain(t, got, "paused until", "mtest-val-01 re-roll", "/train hotfix")

	// The fix sits on main over 2 commits staging lacks: it takes --force.
	got, refused = h.do(t, validator, "hotfix "+fix[:10]+" fix the panic --force")
	if refused {
		t.Fatalf("hotfix refused: %s", got)
	}
	mustContain(t, got, "v0.5.0-hotfix.1", "Trains are paused", "Forced")
	h.Svc.Wait()

	got, _ = h.do(t, stranger, "pause")
	mustContain(t, got, "Active:", "mtest-val-01")
	if _, refused := h.do(t, chainOps, "resume"); refused {
		t.Error("resume refused")
	}
	got, refused = h.do(t, releaser, "cut dev")
	if refused {
		t.Fatalf("cut after resume refused: %s", got)
	}
	mustContain(t, got, "Cutting dev-2026-12-01", "v0.5.0-dev.1")
	h.Svc.Wait()
	got, _ = h.do(t, stranger, "history 5")
	mustContain(t, got, "dev-2026-12-01", "deployed", "v0.5.0-dev.1", "hotfix-2026-12-01", "v0.5.0-hotfix.1")
	got, _ = h.do(t, stranger, "changes v0.5.0-dev.1")
	mustContain(t, got, "Changes in v0.5.0-dev.1", "1 commit(s) since v0.4.0-dev.9", "fix the validator panic")
	got, _ = h.do(t, stranger, "changes v0.4.0-dev.9")
	mustContain(t, got, "first dev tag")
	got, _ = h.do(t, stranger, "stats")
	mustContain(t, got, "Hotfixes: 1", "Deploys on Tue/Wed: 100% (2 of 2")
}

func TestStagingThroughCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-09 10:00")
	soaked := h.GH.AddCommits("main", 1)[0]
	h.GH.AddAnnotatedTag("v0.5.0-dev.4", soaked, "dev", trainstack.At("2026-12-01 14:00"))
	got, refused := h.do(t, releaser, "cut staging")
	if !refused {
		t.Fatal("staging cut without sign-off went ahead")
	}
	mustContain(t, got, "needs 1 validator approval", "<@UVAL>", "<@UVAL2>", "/train approve next-staging")
	if got, refused := h.do(t, releaser, "approve next-staging"); refused {
		t.Fatalf("a releaser who is a validator may approve: %s", got)
	}
	got, _ = h.do(t, releaser, "cut staging")
	mustContain(t, got, "not counted: <@UREL> is the person cutting the train")
	got, refused = h.do(t, validator, "approve <@U00|x>")
	if !refused {
		t.Errorf("approving a mention: %s", got)
	}
	got, _ = h.do(t, validator, "approve staging-2026-12-09")
	mustContain(t, got, "You approved v0.5.0-dev.4 on "+soaked[:7]+" for staging-2026-12-09", "2 of 1 needed")
	got, refused = h.do(t, releaser, "cut staging")
	if refused {
		t.Fatalf("signed cut refused: %s", got)
	}
	mustContain(t, got, "v0.5.0-staging.1")
	h.Svc.Wait()
	if h.Tag("v0.5.0-staging.1") != soaked {
		t.Error("staging tag not on the soaked dev commit")
	}
}

func TestOnCallCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-25 15:00")
	got, _ := h.do(t, stranger, "oncall")
	mustContain(t, got, "No rotation is set")
	got, refused := h.do(t, releaser, "oncall rotation <@UANA|ana> <@UBOB> UCAT")
	if refused {
		t.Fatalf("rotation refused: %s", got)
	}
	mustContain(t, got, "Rotation set", "dev-2026-12-01: <@UANA>", "dev-2026-12-08: <@UBOB>", "staging-2026-12-09: <@UCAT>", "dev-2026-12-15: <@UANA>")
	got, _ = h.do(t, releaser, "oncall set dev-2026-12-08 <@UZED>")
	mustContain(t, got, "<@UZED> is on call for dev-2026-12-08")
	got, _ = h.do(t, releaser, "oncall swap <@UANA> <@UCAT>")
	mustContain(t, got, "Swapped", "dev-2026-12-01 → <@UCAT>", "staging-2026-12-09 → <@UANA>")
	got, _ = h.do(t, stranger, "oncall")
	mustContain(t, got, "dev-2026-12-08: <@UZED> (set by hand)", "dev-2026-12-01: <@UCAT> (set by hand)")
	// The on-call of a train may confirm it without being a releaser.
	if got, refused := h.do(t, "UCAT", "confirm next-dev"); refused {
		t.Errorf("on-call confirm refused: %s", got)
	}
	if tr := h.Train("dev-2026-12-01"); tr.ConfirmedBy != "UCAT" || tr.State != trains.Confirmed {
		t.Errorf("train = %+v", tr)
	}
	got, _ = h.do(t, releaser, "line 0.6.0")
	mustContain(t, got, "v0.6.0-dev.1")
	got, refused = h.do(t, releaser, "line 0.5.0")
	if !refused {
		t.Error("a lower line was accepted")
	}
	mustContain(t, got, "not above the current line 0.6.0")
	_ = time.Second
}
