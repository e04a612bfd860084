package trains

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// This file rolls an environment back (issue 13): `/train rollback
// <dev|staging> <reason>`, or the Roll back button of a train that went
// wrong. A rollback deploys again the tag that was deployed before the one
// deployed now, as a train of its own (rollback-2026-12-02) of the track it
// rolls back: announced, recorded and run under the track's lock like a
// cut, from its Tagged state (the tag exists and was published when it was
// made), so that a crash resumes it like any train.

// DeployHistory is an optional extension of Repo: the deploy workflow's
// runs as the repository keeps them, the source of truth of what was
// deployed — including before trainbot was installed. A Repo without it
// cannot roll back.
type DeployHistory interface {
	// CompletedDeployRuns lists the deploy workflow's completed runs
	// (whatever their conclusion), newest first, at most limit.
	CompletedDeployRuns(ctx context.Context, limit int) ([]Run, error)
}

// rollbackRuns is how many completed deploy runs a rollback looks through.
const rollbackRuns = 500

// DeployedTag is a train tag a deploy run deployed to an environment.
type DeployedTag struct {
	Tag string
	Run Run
}

// PreviousDeploy works out, from the deploy workflow's completed runs
// (newest first, as DeployHistory lists them), what environment env runs
// now and what it ran before. Only runs on train tags whose track deploys
// to env count (staging: staging and hotfix tags). The deploy history is
// read as a stack, oldest run first: a successful deploy of a tag puts it
// on top, or, when the tag is on the stack already (a rollback, a
// redeploy), takes the stack back down to it. The newest run counts too
// when it failed — a failed deploy may have left its tag half deployed, so
// rolling back from it restores the last tag deployed before it. current
// is the top of the stack, previous the tag under it; ok is false when
// there is no tag under it (previous is then zero, and current too when
// env has no deploy of a train tag at all).
func PreviousDeploy(runs []Run, env string) (current, previous DeployedTag, ok bool) {
	var stack []DeployedTag
	// The newest run of env's, whatever its conclusion.
	newestID := int64(0)
	for _, r := range runs {
		if tag, err := ParseTag(r.Ref); err == nil && tag.Track.Environment() == env && r.Completed() {
			newestID = r.ID
			break
		}
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		tag, err := ParseTag(r.Ref)
		if err != nil || tag.Track.Environment() != env || !(r.Succeeded() || r.ID == newestID && r.Completed()) {
			continue
		}
		d := DeployedTag{Tag: tag.String(), Run: r}
		if at := slices.IndexFunc(stack, func(o DeployedTag) bool { return o.Tag == d.Tag }); at >= 0 {
			stack = stack[:at]
		}
		stack = append(stack, d)
	}
	switch len(stack) {
	case 0:
		return DeployedTag{}, DeployedTag{}, false
	case 1:
		return stack[0], DeployedTag{}, false
	}
	return stack[len(stack)-1], stack[len(stack)-2], true
}

// RollbackRequest asks to roll an environment back.
type RollbackRequest struct {
	// Track is dev or staging: the environment it deploys to is rolled back.
	Track Track
	// From, when set, is the tag to roll back from (a Roll back button's:
	// the tag of the train it sits on): the rollback is refused unless
	// the environment runs it now, so that a button clicked again, or days
	// later, never rolls back whatever runs then. Empty: what runs now.
	From   string
	Reason string
	By     string
	// DryRun previews and changes nothing.
	DryRun bool
}

// RollbackOutcome says how a rollback went.
type RollbackOutcome int

// The outcomes of a rollback.
const (
	// RollbackStarted: the rollback train is recorded, announced and on its way.
	RollbackStarted RollbackOutcome = iota
	// RollbackPreview: a dry run; nothing changed.
	RollbackPreview
	// RollbackBusy: a train of the track holds its lock; nothing was done.
	RollbackBusy
)

// RollbackResult is what a rollback did or would do.
type RollbackResult struct {
	Outcome RollbackOutcome
	// Train is the rollback train (not stored for a preview).
	Train Train
	// Current is what the environment runs now, Previous the tag it goes
	// back to, and Commit that tag's commit.
	Current, Previous DeployedTag
	Commit            Commit
	// Out is what the rollback takes back out: the commits of Current's tag
	// that Previous's lacks.
	Out Comparison
	// Window is the quiet window the rollback goes out in, if any (zero
	// when none): announced loudly, as for a hotfix.
	Window Window
	// earlier is the newest run listed on Previous's tag.
	earlier int64
}

// InWindow reports whether the rollback goes out during a quiet window.
func (r RollbackResult) InWindow() bool { return r.Window.ID != "" }

// rollbackWords name a rollback in what is said when its start fails.
var rollbackWords = startWords{noun: "rollback", subject: "rollback", done: "started", again: "rolling back again",
	first: "deployed", before: "deploys ", after: " again"}

// Rollback deploys again, to the environment of req.Track, the tag deployed
// there before the one deployed now (PreviousDeploy over the deploy
// workflow's runs on GitHub), with that tag's track's workflow inputs — the
// same the workflow got when the tag was first deployed. Releasers or the
// on-call of the track's next train may roll back; a quiet window does not
// hold it (it is an emergency, as a hotfix is), but the announcement says
// so loudly. With no earlier tag to go back to it is refused, saying why.
func (s *Service) Rollback(ctx context.Context, req RollbackRequest) (RollbackResult, error) {
	if !req.Track.Scheduled() {
		return RollbackResult{}, userErr("roll back dev or staging (hotfixes deploy to staging: `/train rollback staging <reason>`)")
	}
	req.Reason = CleanText(req.Reason)
	if req.Reason == "" {
		return RollbackResult{}, userErr("a rollback needs a reason, for the post-incident review: `/train rollback %s <reason>`", req.Track)
	}
	env := req.Track.Environment()
	action := "rollback " + env
	now := s.clock.Now()
	recent, err := s.store.ListTrains(ctx, TrainQuery{From: now.Add(-rollbackLookback)})
	if err != nil {
		return RollbackResult{}, err
	}
	if !req.DryRun {
		if err := s.authorizeRollback(ctx, req, recent, action); err != nil {
			return RollbackResult{}, err
		}
	}
	var res RollbackResult
	if res.Window, err = s.activeWindow(ctx, now); err != nil {
		return res, err
	}
	err = s.rollbackPlan(ctx, req.Track, &res)
	if req.From != "" && res.Current.Tag != "" && res.Current.Tag != req.From {
		err = userErr("%s runs %s now, not %s: it was rolled back already, or a newer deploy replaced it. Nothing was done; `/train rollback %s <reason>` rolls back from what runs now.",
			env, res.Current.Tag, req.From, env)
	}
	if err == nil && !req.DryRun {
		err = deployingTo(recent, env)
	}
	if err != nil {
		if !req.DryRun {
			s.audit(ctx, req.By, action, "", req.Reason, err)
		}
		return res, err
	}
	if req.DryRun {
		res.Outcome = RollbackPreview
		return res, nil
	}
	// Keyed by the deploy it rolls back from: two clicks of Roll back (or
	// two people) that saw the same deploy make one rollback.
	key := fmt.Sprintf("rollback:%s:%d", req.Track.Environment(), res.Current.Run.ID)
	claimed, err := s.store.Claim(ctx, key, rollbackClaimTTL)
	if err != nil {
		return res, err
	}
	if !claimed {
		err := userErr("a rollback of %s from %s (run %d) was already started; follow it in the channel. Nothing more was done.",
			req.Track.Environment(), res.Current.Tag, res.Current.Run.ID)
		s.audit(ctx, req.By, action, "", req.Reason, err)
		return res, err
	}
	res, err = s.rollbackClaimed(ctx, req, res, action, now)
	// A rollback whose record the store did not confirm may have been
	// recorded, and then resumes: its key stays, so a second click does
	// not start another.
	if err != nil && !errors.Is(err, ErrUnclear) || err == nil && res.Outcome != RollbackStarted {
		if uerr := s.store.Unclaim(context.WithoutCancel(ctx), key); uerr != nil {
			s.log.Warn("give back the rollback key", "key", key, "err", uerr)
		}
	}
	return res, err
}

// rollbackClaimTTL is how long a rollback's key is kept: long enough for
// two clicks at once to make one rollback, short enough that a process
// that died between the key and the record does not hold rollbacks back.
// Later clicks are held by the track's lock while the rollback runs, and
// by From once it has run.
const rollbackClaimTTL = 2 * time.Minute

// rollbackLookback is how far back, by slot, a rollback looks for trains
// deploying to its environment and for the train it rolls back: past the
// 31 days a deploy may wait for an Environment's reviewers.
const rollbackLookback = 32 * 24 * time.Hour

// deployingTo says, as a *UserError, which train is deploying to env now
// (tagged, publishing or deploying), if one is: a rollback waits for it
// rather than racing it. A train of another track counts too (a hotfix
// deploys to staging); nil when none is.
func deployingTo(recent []Train, env string) error {
	for _, t := range recent {
		switch t.State {
		case Tagged, Publishing, Deploying:
			if t.Track.Environment() == env {
				return userErr("%s is deploying %s to %s now: roll back once it is out, or has failed. Nothing was done.", t.ID, t.Tag, env)
			}
		}
	}
	return nil
}

// rollbackClaimed is Rollback once its key is taken: under the track's
// lock, it starts the rollback train.
func (s *Service) rollbackClaimed(ctx context.Context, req RollbackRequest, res RollbackResult, action string, now time.Time) (RollbackResult, error) {
	lease, ok, err := s.lockTrack(ctx, req.Track)
	if err != nil {
		return res, err
	}
	if !ok {
		s.log.Info("rollback refused: the track lock is held", "track", string(req.Track), "holder", lease.Holder, "user", req.By)
		s.audit(ctx, req.By, action, "", req.Reason, userErr("a %s train holds the track", req.Track))
		res.Outcome = RollbackBusy
		return res, nil
	}
	t, err := s.rollbackLocked(ctx, req, res, lease, now)
	if err != nil {
		s.release(ctx, lease)
		return res, err
	}
	res.Outcome, res.Train = RollbackStarted, t
	return res, nil
}

// authorizeRollback checks that req.By may roll req.Track back:
// releasers, the on-call of the track's next train, or, from a tag
// (req.From, a Roll back button's), the on-call of the train that made it,
// found among recent — as they may click its Retry.
func (s *Service) authorizeRollback(ctx context.Context, req RollbackRequest, recent []Train, action string) error {
	p := anyRole(Releaser)
	p.who = "releasers or the on-call"
	next, err := s.nextTrain(ctx, req.Track)
	var ue *UserError
	switch {
	case err == nil:
		p.onCall = next.OnCall
	case !errors.As(err, &ue):
		return err
	}
	if req.From != "" && req.By != p.onCall {
		for _, t := range recent {
			if t.Tag == req.From && t.RollsBack == "" && t.OnCall == req.By {
				p.onCall = req.By
			}
		}
	}
	return s.authorize(ctx, req.By, action, "", p)
}

// rollbackPlan fills res with what a rollback of track does: what runs
// now, the tag to go back to, its commit and what it takes back out.
func (s *Service) rollbackPlan(ctx context.Context, track Track, res *RollbackResult) error {
	env := track.Environment()
	h, ok := s.repo.(DeployHistory)
	if !ok {
		return userErr("this trainbot cannot read the deploy workflow's runs (it works on a local repository), so it cannot tell which tag to roll back to")
	}
	runs, err := h.CompletedDeployRuns(ctx, rollbackRuns)
	var ue *UserError
	if errors.As(err, &ue) {
		return ue
	}
	if err != nil {
		return fmt.Errorf("list the deploy runs to find the tag to roll back to: %w", err)
	}
	cur, prev, ok := PreviousDeploy(runs, env)
	res.Current, res.Previous = cur, prev
	for _, r := range runs {
		if r.Ref == prev.Tag && r.ID > res.earlier {
			res.earlier = r.ID
		}
	}
	switch {
	case cur.Tag == "":
		return userErr("no run of %s on a train tag to %s is listed on GitHub (of its newest %d completed runs), so there is nothing to roll back to. Nothing was done.",
			s.cfg.DeployWorkflow, env, rollbackRuns)
	case !ok:
		return userErr("%s is the only train tag deployed to %s (in the newest %d completed runs of %s), so there is no earlier tag to roll back to. Nothing was done.",
			cur.Tag, env, rollbackRuns, s.cfg.DeployWorkflow)
	}
	if res.Commit, err = s.repo.Commit(ctx, prev.Tag); err != nil {
		return fmt.Errorf("read the commit of %s, the tag to roll back to: %w", prev.Tag, err)
	}
	if res.Out, err = s.repo.Compare(ctx, prev.Tag, cur.Tag); err != nil {
		return fmt.Errorf("compare %s with %s, to say what the rollback takes out: %w", prev.Tag, cur.Tag, err)
	}
	return nil
}

// rollbackLocked records, announces and launches the rollback train of
// res under the track's lock, which the launched train keeps; on an error
// the caller gives it back.
func (s *Service) rollbackLocked(ctx context.Context, req RollbackRequest, res RollbackResult, lease Lease, now time.Time) (Train, error) {
	id, _, _, err := s.dayIDs(ctx, rollbackIDs, now, false)
	if err != nil {
		return Train{}, err
	}
	t := Train{ID: id, Track: req.Track, At: now, State: Scheduled, Tag: res.Previous.Tag, Commit: res.Commit.SHA,
		RollsBack: res.Current.Tag, EarlierRun: res.earlier, Reason: req.Reason, CutBy: req.By, ConfirmedBy: req.By, Created: now, Updated: now,
		Window: res.Window.ID, WindowReason: res.Window.Reason,
		Candidate: Candidate{Tag: res.Previous.Tag, Commit: res.Commit.SHA, CommitURL: res.Commit.URL,
			Commits: res.Out.Total, CompareURL: res.Out.URL}}
	for _, next := range []State{Confirmed, Tagged} {
		if err := t.MoveTo(next, now); err != nil {
			return t, err
		}
	}
	detail := func(t Train) string {
		d := fmt.Sprintf("%s back to %s on %s: %s", t.RollsBack, t.Tag, ShortSHA(t.Commit), t.Reason)
		if t.Window != "" {
			d += " (during quiet window " + t.Window + ")"
		}
		return d
	}
	return s.startTrain(ctx, t, starting{lease: lease, words: rollbackWords, by: req.By, action: "rollback " + req.Track.Environment(),
		detail: detail, save: s.store.CreateTrain})
}

// rollbackOutText says what a rollback takes back out: the commits of the
// tag rolled back from that the tag deployed again lacks.
func rollbackOutText(t Train) Text {
	c := t.Candidate
	n := fmt.Sprintf("%d %s of %s", c.Commits, Plural(c.Commits, "commit", "commits"), t.RollsBack)
	out := Text{B("Takes back out: ")}
	if c.CompareURL != "" {
		return append(out, L(n, c.CompareURL))
	}
	return append(out, T(n))
}
