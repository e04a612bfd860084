package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// HotfixRequest asks for a hotfix of a commit or branch.
type HotfixRequest struct {
	// Ref is a commit sha or a branch name.
	Ref    string
	Reason string
	By     string
	// Force ships a commit that carries more than the fix: commits not
	// yet in staging, or one that lacks some of the staging tag's.
	Force  bool
	DryRun bool
}

// HotfixResult is what a hotfix did or would do.
type HotfixResult struct {
	// Outcome is CutStarted, CutPreview (a dry run), CutBusy (another
	// hotfix holds the lock) or CutExtraCommits (the commit ships more
	// than the fix, and Force was not given; nothing was done).
	Outcome Outcome
	Train   Train
	// Scope is what the commit ships beyond the fix, measured against the
	// newest staging tag.
	Scope HotfixScope
	// Window is the quiet window the hotfix goes out in, if any (zero when
	// none): announced loudly.
	Window Window
}

// InWindow reports whether the hotfix goes out during a quiet window.
func (r HotfixResult) InWindow() bool { return r.Window.ID != "" }

// Hotfix cuts a hotfix of ref on the line of the newest staging tag (SPEC
// §1–3). Quiet windows do not hold it — emergencies trump cadence — but the
// announcement says so loudly and the window is recorded on the train. A
// commit that ships more than the fix (HotfixScope) is refused with
// CutExtraCommits unless req.Force; a forced hotfix is recorded as such.
func (s *Service) Hotfix(ctx context.Context, req HotfixRequest) (HotfixResult, error) {
	req.Reason = CleanText(req.Reason)
	if req.Reason == "" {
		return HotfixResult{}, userErr("a hotfix needs a reason, for the post-incident review: `/train hotfix <sha|branch> <reason>`")
	}
	if !req.DryRun {
		if err := s.authorizeHotfix(ctx, req.By); err != nil {
			return HotfixResult{}, err
		}
	}
	now := s.clock.Now()
	var res HotfixResult
	var err error
	if res.Window, err = s.activeWindow(ctx, now); err != nil {
		return res, err
	}
	t, sc, err := s.hotfixTrain(ctx, req, now, res.Window)
	res.Scope = sc
	if err != nil {
		return res, err
	}
	if req.DryRun {
		res.Outcome, res.Train = CutPreview, t
		return res, nil
	}
	if !sc.Clean() && !req.Force {
		res.Outcome, res.Train = CutExtraCommits, t
		s.log.Info("hotfix refused: it ships more than the fix", "tag", t.Tag, "user", req.By, "extra", sc.Extras, "behind", sc.Behind, "lacks", sc.Lacks)
		s.audit(ctx, req.By, "hotfix", "", hotfixDetail(t), userErr("%s; it needs --force", sc.Summary()))
		return res, nil
	}
	lease, ok, err := s.lockTrack(ctx, Hotfix)
	if err != nil {
		return res, err
	}
	if !ok {
		s.log.Info("hotfix refused: the hotfix lock is held", "holder", lease.Holder, "user", req.By)
		res.Outcome = CutBusy
		return res, nil
	}
	if t, err = s.hotfixLocked(ctx, req, t, lease); err != nil {
		s.release(ctx, lease)
		return res, err
	}
	res.Outcome, res.Train = CutStarted, t
	return res, nil
}

// hotfixTrain is the hotfix train req asks for, not yet numbered: the
// commit, the next hotfix tag on the newest staging tag's line, what it
// ships since that staging tag, and its scope beyond the fix. A commit a
// hotfix already ships is refused. The train is Forced when req.Force is
// given and the scope is not clean.
func (s *Service) hotfixTrain(ctx context.Context, req HotfixRequest, now time.Time, w Window) (Train, HotfixScope, error) {
	commit, err := s.hotfixCommit(ctx, req.Ref)
	if err != nil {
		return Train{}, HotfixScope{}, err
	}
	tags, err := s.planTags(ctx)
	if err != nil {
		return Train{}, HotfixScope{}, err
	}
	tag, err := NextHotfixTag(tags)
	if errors.Is(err, ErrNoStagingTag) {
		return Train{}, HotfixScope{}, userErr("%v", err)
	}
	// A retyped hotfix must not tag and deploy the same commit again.
	if dup, err := s.hotfixOf(ctx, tags, commit.SHA); err != nil {
		return Train{}, HotfixScope{}, err
	} else if dup != "" {
		return Train{}, HotfixScope{}, userErr("%s already ships %s (%s); nothing was done. Follow it in the channel, or `/train history`.", dup, ShortSHA(commit.SHA), req.Ref)
	}
	t := Train{Track: Hotfix, At: now, State: Scheduled, Tag: tag.String(), Commit: commit.SHA, Reason: req.Reason,
		CutBy: req.By, ConfirmedBy: req.By, OffSchedule: true, Created: now, Updated: now,
		Window: w.ID, WindowReason: w.Reason}
	staging, _ := Newest(tags, Staging)
	t.Previous = staging.String()
	t.Candidate = Candidate{Tag: t.Tag, Commit: commit.SHA, CommitURL: commit.URL, Previous: t.Previous}
	// Without its scope, a hotfix cannot say what rides along with the
	// fix: it does not go.
	sc, cmp, err := s.hotfixScope(ctx, tags, staging, commit.SHA)
	if err != nil {
		return t, sc, err
	}
	t.Candidate.Commits, t.Candidate.CompareURL = cmp.Total, cmp.URL
	t.Candidate.Extra, t.Candidate.Behind, t.Candidate.Lacks = sc.Extras, sc.Behind, sc.Lacks
	if !sc.Clean() {
		t.Candidate.Beyond = sc.Beyond()
	}
	t.Forced = req.Force && !sc.Clean()
	return t, sc, nil
}

// hotfixDetail is a hotfix's audit entry text: its tag, commit and
// reason, the quiet window it went out in, and what a forced one ships
// beyond the fix.
func hotfixDetail(t Train) string {
	d := t.Tag + " on " + ShortSHA(t.Commit) + ": " + t.Reason
	if t.Window != "" {
		d += " (during quiet window " + t.Window + ")"
	}
	if t.Forced {
		c := t.Candidate
		d += " (forced: " + scopeSummary(c.Extra, c.Beyond, c.Behind, t.Previous, c.Lacks) + ")"
	}
	return d
}

// hotfixLocked starts hotfix t under the hotfix lock, which the launched
// train keeps; on an error, the caller gives it back.
func (s *Service) hotfixLocked(ctx context.Context, req HotfixRequest, t Train, lease Lease) (Train, error) {
	// Under the lock, take the number afresh: another hotfix may have just
	// made one. It made it under this lock, so only the next numbers can
	// be taken: ask for each rather than list every tag again.
	tag, err := ParseTag(t.Tag)
	if err != nil {
		return t, err
	}
	if tag, err = s.freeHotfixTag(ctx, tag); err != nil {
		return t, err
	}
	t.Tag, t.Candidate.Tag = tag.String(), tag.String()
	if err := t.MoveTo(Confirmed, t.At); err != nil {
		return t, err
	}
	free, _, _, err := s.dayIDs(ctx, Hotfix, t.At, false)
	if err != nil {
		return t, err
	}
	t.ID = free
	return s.startTrain(ctx, t, starting{lease: lease, words: hotfixWords, by: req.By, action: "hotfix",
		detail: hotfixDetail, save: s.store.CreateTrain})
}

// freeHotfixTag returns tag, or the first hotfix tag after it on its line
// that does not exist in the repository.
func (s *Service) freeHotfixTag(ctx context.Context, tag Tag) (Tag, error) {
	for range 100 {
		_, err := s.repo.TagDate(ctx, tag.String())
		if errors.Is(err, ErrNotFound) {
			return tag, nil
		}
		if err != nil {
			return tag, fmt.Errorf("check whether %s exists: %w", tag, err)
		}
		tag.N++
	}
	return tag, fmt.Errorf("the next 100 hotfix tags after %s exist already", tag)
}

// hotfixOf names the hotfix that already ships commit: a hotfix tag on it,
// or a hotfix train on its way; "" when there is none.
func (s *Service) hotfixOf(ctx context.Context, tags []TrainTag, commit string) (string, error) {
	for _, t := range tags {
		if t.Track == Hotfix && t.Commit == commit {
			return t.String(), nil
		}
	}
	open, err := s.store.OpenTrains(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range open {
		if t.Track == Hotfix && t.Commit == commit {
			return string(t.ID), nil
		}
	}
	return "", nil
}

// authorizeHotfix checks that by may make a hotfix: releasers, validators,
// or the on-call of the next train — "whoever paged" (SPEC §6).
func (s *Service) authorizeHotfix(ctx context.Context, by string) error {
	p := anyRole(Releaser, Validator)
	p.who = "releasers, validators or the next train's on-call"
	next, err := s.nextTrain(ctx, Dev, Staging)
	var ue *UserError
	switch {
	case err == nil:
		p.onCall = next.OnCall
	case !errors.As(err, &ue):
		return err
	}
	return s.authorize(ctx, by, "hotfix", "", p)
}
