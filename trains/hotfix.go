package trains

import (
	"context"
	"errors"
	"fmt"
)

// HotfixRequest asks for a hotfix of a commit or branch.
type HotfixRequest struct {
	// Ref is a commit sha or a branch name.
	Ref    string
	Reason string
	By     string
	DryRun bool
}

// HotfixResult is what a hotfix did or would do.
type HotfixResult struct {
	Train Train
	// Window is the quiet window the hotfix goes out in, if any: announced loudly.
	Window Window
	Paused bool
	// Busy is set when another hotfix holds the lock.
	Busy    bool
	Preview bool
}

// Hotfix cuts a hotfix of ref on the line of the newest staging tag (SPEC
// §1–3). Quiet windows do not hold it — emergencies trump cadence — but the
// announcement says so loudly and the window is recorded on the train.
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
	now := s.Clock.Now()
	ws, err := s.Store.Windows(ctx, now)
	if err != nil {
		return HotfixResult{}, err
	}
	var res HotfixResult
	res.Window, res.Paused = Active(ws, now)
	commit, err := s.hotfixCommit(ctx, req.Ref)
	if err != nil {
		return res, err
	}
	rts, err := s.Repo.Tags(ctx)
	if err != nil {
		return res, fmt.Errorf("list the repository's tags: %w", err)
	}
	tags := TrainTags(rts)
	tag, err := NextHotfixTag(tags)
	if errors.Is(err, ErrNoStagingTag) {
		return res, userErr("%v", err)
	}
	// A retyped hotfix must not tag and deploy the same commit again.
	if dup, err := s.hotfixOf(ctx, tags, commit.SHA); err != nil {
		return res, err
	} else if dup != "" {
		return res, userErr("%s already ships %s (%s); nothing was done. Follow it in the channel, or `/train history`.", dup, ShortSHA(commit.SHA), req.Ref)
	}
	t := Train{Track: Hotfix, At: now, State: Scheduled, Tag: tag.String(), Commit: commit.SHA, Reason: req.Reason,
		CutBy: req.By, ConfirmedBy: req.By, OffSchedule: true, Created: now, Updated: now}
	staging, _ := Newest(tags, Staging)
	t.Previous = staging.String()
	t.Candidate = Candidate{Tag: t.Tag, Commit: commit.SHA, CommitURL: commit.URL, Previous: t.Previous}
	if cmp, err := s.Repo.Compare(ctx, staging.Commit, commit.SHA); err == nil {
		t.Candidate.Commits, t.Candidate.CompareURL = cmp.Total, cmp.URL
	}
	if res.Paused {
		t.Window, t.WindowReason = res.Window.ID, res.Window.Reason
	}
	if req.DryRun {
		res.Train, res.Preview = t, true
		return res, nil
	}
	lease, ok, err := s.Store.TryLease(ctx, "track:"+string(Hotfix), s.holder(), s.cfg.LockTTL)
	if err != nil {
		return res, err
	}
	if !ok {
		s.Log.Info("hotfix refused: the hotfix lock is held", "holder", lease.Holder, "user", req.By)
		res.Busy = true
		return res, nil
	}
	started := false
	defer func() {
		if !started {
			s.release(lease)
		}
	}()
	// Under the lock, take the number afresh: another hotfix may have just
	// made one. It made it under this lock, so only the next numbers can
	// be taken: ask for each rather than list every tag again.
	if tag, err = s.freeHotfixTag(ctx, tag); err != nil {
		return res, err
	}
	t.Tag, t.Candidate.Tag = tag.String(), tag.String()
	if err := t.MoveTo(Confirmed, now); err != nil {
		return res, err
	}
	if t.ID, err = s.freeID(ctx, Hotfix); err != nil {
		return res, err
	}
	ref, err := s.Announcer.Post(ctx, s.cutMessage(t, Plan{}))
	if err != nil {
		return res, fmt.Errorf("announce the hotfix in the channel (nothing was tagged): %w", err)
	}
	t.Message = ref
	stored, err := s.Store.CreateTrain(ctx, t)
	if errors.Is(err, ErrUnclear) {
		s.Log.Warn("the store did not confirm the hotfix was recorded; if it was, the resumer continues it", "train", string(t.ID), "tag", t.Tag, "err", err)
		s.replyQuiet(ref, Say(T("⚠️ The state store did not confirm that this hotfix was recorded, so it may have been. If it was, trainbot tags "),
			C(t.Tag), T(" and deploys it by itself within a minute; if it was not, nothing more happens.")))
		return res, &UnclearError{Err: fmt.Errorf("record hotfix %s: %w", t.ID, err), Text: Text{
			T("⚠️ The state store did not confirm that hotfix " + string(t.ID) + " was recorded, so it may have been made. If it was, trainbot tags "),
			C(t.Tag), T(" and deploys it by itself within a minute; if it was not, nothing more happens. Check "), C("/train history"),
			T(" before trying again.")}}
	}
	if err != nil {
		s.replyQuiet(ref, Say(T("⚠️ This hotfix was not recorded, so nothing was tagged: "), T(err.Error())))
		return res, fmt.Errorf("record hotfix (nothing was tagged): %w", err)
	}
	t = stored
	detail := t.Tag + " on " + ShortSHA(t.Commit) + ": " + t.Reason
	if res.Paused {
		detail += " (during quiet window " + res.Window.ID + ")"
	}
	s.audit(ctx, req.By, "hotfix", t.ID, detail, nil)
	started = true
	s.launch(t, lease)
	res.Train = t
	return res, nil
}

// freeHotfixTag returns tag, or the first hotfix tag after it on its line
// that does not exist in the repository.
func (s *Service) freeHotfixTag(ctx context.Context, tag Tag) (Tag, error) {
	for range 100 {
		_, err := s.Repo.TagDate(ctx, tag.String())
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
	open, err := s.Store.OpenTrains(ctx)
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

// freeID returns the first train id of track today that no train has.
func (s *Service) freeID(ctx context.Context, track Track) (TrainID, error) {
	now := s.Clock.Now()
	for n := 1; n <= 99; n++ {
		id := NewTrainID(track, now, n)
		_, err := s.Store.GetTrain(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return id, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", userErr("99 %s trains today is the limit", track)
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
