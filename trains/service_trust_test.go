package trains_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trainbot/trainbot/trains"
)

// A train keeps the id of its slot; refs resolve to stored trains first.
func TestTrainRefsResolveToStoredTrains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	e.gh.AddCommits("main", 1)
	if _, err := e.svc.Pause(ctx, trains.PauseRequest{From: at("2026-12-01 13:00"), Until: at("2026-12-02 06:00"), Reason: "re-roll", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-12-01 14:01"))
	tick(t, e)
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Postponed || !tr.At.Equal(at("2026-12-02 06:00")) {
		t.Fatalf("train after its slot in a window: %s at %s", tr.State, tr.At)
	}
	e.clock.Set(at("2026-12-02 01:00"))
	// next-dev is the postponed train, not next week's slot.
	res, err := e.svc.Confirm(ctx, releaser, "next-dev")
	if err != nil || res.Train.ID != "dev-2026-12-01" || res.Train.State != trains.Postponed || res.Train.ConfirmedBy != releaser {
		t.Fatalf("confirm next-dev = %+v, %v", res.Train, err)
	}
	if _, err := e.store.GetTrain(ctx, "dev-2026-12-02"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("a made-up record dev-2026-12-02 appeared: %v", err)
	}
	id, err := e.svc.SetOnCall(ctx, releaser, "dev-2026-12-01", "UBOB")
	if err != nil || id != "dev-2026-12-01" || e.train("dev-2026-12-01").OnCall != "UBOB" {
		t.Errorf("oncall set on the postponed train = %s, %v", id, err)
	}
	// The window ends: the confirmed train leaves under its own id.
	e.clock.Set(at("2026-12-02 06:00"))
	tick(t, e)
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed || tr.Tag != "v0.1.0-dev.1" {
		t.Errorf("postponed train at the window's end: %s %s", tr.State, tr.Tag)
	}
	if _, err := e.store.GetTrain(ctx, "dev-2026-12-02"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("a record dev-2026-12-02 appeared: %v", err)
	}
}

func TestTrainIDsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	for _, tc := range []struct{ ref, want string }{
		{"staging-0001-01-03", "has passed and was never a train"},
		{"dev-2026-11-24", "has passed and was never a train"},
		{"dev-2099-01-06", "more than 90 days ahead"},
		{"dev-2027-03-02", "more than 90 days ahead"}, // 91 days
		{"dev-2026-12-02", "there is no dev train on 2026-12-02"},
		{"dev-2026-12-08-2", "there is no train dev-2026-12-08-2"},
		{"hotfix-2026-12-01", "there is no train hotfix-2026-12-01"},
		{"dev-2026-13-01", "is not a date"},
		{"nonsense", "is not a train id"},
	} {
		_, err := e.svc.Confirm(ctx, releaser, tc.ref)
		var ue *trains.UserError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("confirm %s: %v, want a refusal saying %q", tc.ref, err, tc.want)
		}
	}
	// The last slot inside the horizon is accepted.
	if res, err := e.svc.Confirm(ctx, releaser, "dev-2027-02-23"); err != nil || res.Train.ID != "dev-2027-02-23" {
		t.Errorf("confirm a train 84 days ahead: %+v, %v", res.Train.ID, err)
	}
	ts, err := e.store.ListTrains(ctx, trains.TrainQuery{})
	if err != nil || len(ts) != 1 {
		t.Errorf("trains stored after refused ids: %d, %v", len(ts), err)
	}
	log, err := e.store.AuditLog(ctx, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range log {
		if strings.HasPrefix(a.Result, "refused") && a.Train != "" {
			t.Errorf("a refused made-up id is named in the audit log as a train: %+v", a)
		}
	}
}

// staging with one candidate soaked by the slot: dev.4 (8 days old).
func TestApprovalSignsOneCandidate(t *testing.T) {
	t.Parallel()
	e, soaked := stagingEnv(t)
	ctx := t.Context()
	res, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"})
	if err != nil || res.Candidate.Promotes != "v0.5.0-dev.4" || res.Candidate.Commit != soaked || len(res.Approvals) != 1 {
		t.Fatalf("approve = %+v, %v", res, err)
	}
	// A newer dev tag soaks before the cut: the approval no longer counts.
	e.gh.AddAnnotatedTag("v0.5.0-dev.6", e.gh.AddCommits("main", 1)[0], "dev", at("2026-12-02 09:00"))
	cut, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || cut.Outcome != trains.CutNeedsSignOff || !strings.Contains(cut.SignOff.Ignored[validator], "earlier candidate, v0.5.0-dev.4") {
		t.Fatalf("cut with a stale approval = %v %+v, %v", cut.Outcome, cut.SignOff, err)
	}
	// A button carrying the old candidate is refused and records nothing.
	_, err = e.svc.Approve(ctx, trains.ApproveRequest{By: "UVAL2", Train: "staging-2026-12-09", Saw: "v0.5.0-dev.4@" + soaked})
	if err == nil || !strings.Contains(err.Error(), "changed since you saw it") || !strings.Contains(err.Error(), "v0.5.0-dev.6") {
		t.Fatalf("approving a candidate no longer current: %v", err)
	}
	if recs, _ := e.store.SignOffs(ctx, "staging-2026-12-09", trains.Approval); len(recs) != 1 {
		t.Errorf("a refused approval was recorded: %+v", recs)
	}
	// The current one, as the new reminder's button carries it.
	cand := e.gh.Head("main")
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: "UVAL2", Train: "staging-2026-12-09", Saw: "v0.5.0-dev.6@" + cand}); err != nil {
		t.Fatal(err)
	}
	cut, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || cut.Outcome != trains.CutStarted || cut.Train.Tag != "v0.5.0-staging.1" || cut.Train.Commit != cand {
		t.Fatalf("cut = %v %s on %s, %v", cut.Outcome, cut.Train.Tag, cut.Train.Commit, err)
	}
	if got := cut.Train.ApprovedBy; len(got) != 1 || got[0] != "UVAL2" {
		t.Errorf("approved by = %v, want the approval of this candidate only", got)
	}
	e.svc.Wait()
	// The approval is used up; the stale one stays (it never counted).
	recs, err := e.store.SignOffs(ctx, "staging-2026-12-09", trains.Approval)
	if err != nil || len(recs) != 1 || recs[0].User != validator {
		t.Errorf("approvals after the cut: %+v, %v", recs, err)
	}
}

// A hotfix made after an approval changes what a promotion leaves out: the
// approval of the candidate without it no longer counts, even for --force.
func TestHotfixAfterApprovalAsksAgain(t *testing.T) {
	t.Parallel()
	e, _ := stagingEnv(t)
	ctx := t.Context()
	base := e.gh.AddCommit("old", "old staging", at("2026-11-20 10:00"))
	e.gh.AddAnnotatedTag("v0.4.0-staging.1", base, "staging", at("2026-11-25 14:00"))
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"}); err != nil {
		t.Fatal(err)
	}
	hf := e.gh.AddCommit("fix", "hotfix", at("2026-11-26 10:00"))
	e.gh.AddAnnotatedTag("v0.4.0-hotfix.1", hf, "hotfix", at("2026-11-26 10:00"))
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, Force: true})
	if err != nil || res.Outcome != trains.CutNeedsSignOff || !strings.Contains(res.SignOff.Ignored[validator], "earlier candidate") {
		t.Fatalf("forced cut after a hotfix = %v %+v, %v", res.Outcome, res.SignOff, err)
	}
	r, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"})
	if err != nil || len(r.Candidate.Without) != 1 || len(r.Approvals) != 1 || len(r.Stale) != 0 {
		t.Fatalf("approve the candidate without the hotfix = %+v, %v", r, err)
	}
	if res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, Force: true}); err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("forced cut approved as it is = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
}

// Who may confirm or skip is read with the train: its on-call may, a
// stranger may not, and a refusal changes nothing and is audited.
func TestConfirmAndSkipCheckWhoMayOnTheTrain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	if _, err := e.svc.SetOnCall(ctx, releaser, "dev-2026-12-01", "UANA"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Confirm(ctx, "USTR", "dev-2026-12-01")
	var ue *trains.UserError
	if !errors.As(err, &ue) || !ue.Forbidden || !strings.Contains(err.Error(), "Only the train's on-call or releasers") {
		t.Fatalf("a stranger's confirm: %v", err)
	}
	if _, err := e.store.GetTrain(ctx, "dev-2026-12-01"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("a refused confirm stored the train: %v", err)
	}
	if res, err := e.svc.Confirm(ctx, "UANA", "dev-2026-12-01"); err != nil || res.Train.ConfirmedBy != "UANA" {
		t.Fatalf("the on-call's confirm = %+v, %v", res.Train, err)
	}
	if _, err := e.svc.Skip(ctx, "USTR", "next-dev", "no"); !errors.As(err, &ue) || !ue.Forbidden {
		t.Errorf("a stranger's skip: %v", err)
	}
	tr, err := e.svc.Skip(ctx, "UANA", "next-dev", "chain\x00 halted\u202e\n  today")
	if err != nil || tr.SkippedBy != "UANA" || tr.Reason != "chain halted today" {
		t.Fatalf("the on-call's skip = %+v, %v", tr, err)
	}
	if got := tr.Why(); got.Plain() != "skipped by <@UANA>: chain halted today" || got[1] != trains.U("UANA") {
		t.Errorf("why = %+v", got)
	}
	log, _ := e.store.AuditLog(ctx, "", 20)
	refused := 0
	for _, a := range log {
		if a.User == "USTR" && strings.HasPrefix(a.Result, "refused: 🚫 Only") {
			refused++
			if a.Action == "confirm" && a.Train != "" {
				t.Errorf("the refusal of a train not stored names it, adding a per-train log for it: %+v", a)
			}
		}
	}
	if refused != 2 {
		t.Errorf("%d refusals of USTR audited, want 2:\n%+v", refused, log)
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain reason":               "plain reason",
		"  two\n lines\r\n\tand tab": "two lines and tab",
		"nul\x00 and \x07bell":       "nul and bell",
		"del\x7f and c1\u0085x":      "del and c1 x",
		"rtl \u202egnp.exe\u202c":    "rtl gnp.exe",
		"isolate\u2066x\u2069":       "isolatex",
		"bad utf8 \xff\xfe here":     "bad utf8 here",
		"émoji 🚂 stays":              "émoji 🚂 stays",
		"\n\n":                       "",
	} {
		if got := trains.CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

// The window and the hotfix keep a reason without control characters.
func TestReasonsStoredClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"))
	res, err := e.svc.Pause(t.Context(), trains.PauseRequest{Until: at("2026-12-01 12:00"), Reason: "re-roll\x00\nmtest", By: chainOps})
	if err != nil || res.Window.Reason != "re-roll mtest" {
		t.Errorf("pause reason = %q, %v", res.Window.Reason, err)
	}
	if _, err := e.svc.Pause(t.Context(), trains.PauseRequest{Until: at("2026-12-01 12:00"), Reason: "\x00\x01", By: chainOps}); err == nil {
		t.Error("a reason of control characters only was accepted")
	}
}

// A refused command's text is kept short in the audit log.
func TestAuditEntriesStayShort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"))
	long := "dev-" + strings.Repeat("é", 2000)
	if _, err := e.svc.Confirm(t.Context(), releaser, long); err == nil {
		t.Fatal("a made-up id was accepted")
	}
	log, err := e.store.AuditLog(t.Context(), "", 1)
	if err != nil || len(log) != 1 {
		t.Fatalf("audit log: %v, %v", log, err)
	}
	if a := log[0]; len(a.Detail) > 500 || len(a.Result) > 500 || !strings.HasSuffix(a.Detail, "…") || !utf8.ValidString(a.Detail) {
		t.Errorf("audit entry of a long command: detail %d bytes, result %d bytes: %q", len(a.Detail), len(a.Result), a.Detail[:20])
	}
}
