package trains

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file holds what people do to a coming train: approve it (staging),
// confirm they are on it, or skip it. Buttons and typed commands land here.

// SignOffResult is a train after a sign-off.
type SignOffResult struct {
	Train Train
	// Added is false when the user had already signed off (a double click).
	Added bool
	// Candidate is what an approval was given for (staging).
	Candidate Candidate
	// Approvals are the train's approvals of Candidate so far, Need how
	// many it needs; Stale those given for an earlier candidate, which no
	// longer count.
	Approvals []SignOffRecord
	Stale     []SignOffRecord
	Need      int
}

// comingTrain resolves ref to a train that has not left yet.
func (s *Service) comingTrain(ctx context.Context, ref string) (Train, error) {
	t, err := s.resolveTrain(ctx, ref)
	if err != nil {
		return Train{}, err
	}
	switch {
	case t.State.Final():
		return t, userErr("train %s is already %s", t.ID, t.State)
	case t.inFlight():
		return t, userErr("train %s is already on its way (%s)", t.ID, t.State)
	case !t.Track.Scheduled() || t.OffSchedule:
		return t, userErr("%s is not a scheduled train", t.ID)
	}
	return t, nil
}

// ApproveRequest is a validator's approval of a staging train (SPEC §2).
type ApproveRequest struct {
	By string
	// Train names the train: next-staging or an id.
	Train string
	// Saw is the candidate the validator saw, as the reminder's button
	// carries it: "<dev tag>@<commit>" (or just the tag, or empty when
	// typed: then the current candidate is approved and the reply names it).
	Saw string
}

// Approve records a validator's approval of what a staging train would
// ship now: the candidate, named in the reply. When Saw names another
// candidate than the train's current one, nothing is recorded and the
// validator is asked to look again. The two-person rule is checked at the cut.
func (s *Service) Approve(ctx context.Context, req ApproveRequest) (SignOffResult, error) {
	by := req.By
	if err := s.authorize(ctx, by, "approve", "", anyRole(Validator)); err != nil {
		return SignOffResult{}, err
	}
	t, err := s.comingTrain(ctx, req.Train)
	if err != nil {
		s.audit(ctx, by, "approve", storedID(t), req.Train, err)
		return SignOffResult{}, err
	}
	if t.Track != Staging {
		err := userErr("%s is a %s train: only staging trains need approval", t.ID, t.Track)
		s.audit(ctx, by, "approve", storedID(t), "", err)
		return SignOffResult{}, err
	}
	now := s.clock.Now()
	p, err := s.plan(ctx, Staging, laterOf(t.At, now))
	if err != nil {
		return SignOffResult{}, fmt.Errorf("work out what %s would ship: %w", t.ID, err)
	}
	if p.Nothing != "" {
		err := userErr("there is nothing to approve for %s yet: %s", t.ID, p.Nothing)
		s.audit(ctx, by, "approve", storedID(t), "", err)
		return SignOffResult{}, err
	}
	c := p.Candidate()
	shown := t.Candidate
	if t.Version > 0 && !sameCandidate(shown, c) {
		// Show the validators what the train would ship now.
		t.Candidate = c
		if stored, err := s.store.UpdateTrain(ctx, t, Fence{}); err == nil {
			t = stored
		} else if !errors.Is(err, ErrConflict) {
			return SignOffResult{}, err
		}
	}
	if changed, saw := candidateChanged(req.Saw, shown, c); changed {
		text := append(Text{T("The candidate of " + string(t.ID) + " changed since you saw it: you saw " + saw + "; it would now ship ")}, candidateText(c)...)
		err := &UserError{Text: append(text, T(". Nothing was recorded: look at it, then approve again."))}
		s.audit(ctx, by, "approve", storedID(t), req.Saw, err)
		s.refreshReminder(ctx, t, nil)
		return SignOffResult{}, err
	}
	rec := SignOffRecord{User: by, At: now, Promotes: c.Promotes, Commit: c.Commit, Without: c.Without}
	added, err := s.store.AddSignOff(ctx, t.ID, Approval, rec)
	if err != nil {
		return SignOffResult{}, err
	}
	detail := "approved " + c.Promotes + " on " + ShortSHA(c.Commit)
	if !added {
		detail = "already approved " + c.Promotes + " on " + ShortSHA(c.Commit)
	}
	s.audit(ctx, by, "approve", t.ID, detail, nil)
	res := SignOffResult{Train: t, Added: added, Candidate: c, Need: s.cfg.StagingApprovals}
	all, err := s.store.SignOffs(ctx, t.ID, Approval)
	if err != nil {
		return res, err
	}
	res.Approvals, res.Stale = splitApprovals(all, c)
	s.refreshReminder(ctx, t, all)
	return res, nil
}

// storedID is t's id when t is stored, else "": the audit log names only
// trains that exist, so a made-up id cannot grow it by a stream a name.
func storedID(t Train) TrainID {
	if t.Version == 0 {
		return ""
	}
	return t.ID
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sameCandidate reports whether a and b ship the same thing.
func sameCandidate(a, b Candidate) bool {
	return a.Promotes == b.Promotes && a.Commit == b.Commit && slices.Equal(a.Without, b.Without)
}

// candidateChanged reports whether saw — what an Approve button carries,
// "<dev tag>@<commit>" or a tag — names another candidate than now, or the
// same one shown (in the reminder) without what now leaves out. An empty
// saw (a typed approval) changes nothing: the reply names what was approved.
func candidateChanged(saw string, shown, now Candidate) (bool, string) {
	if saw == "" {
		return false, ""
	}
	tag, sha, _ := strings.Cut(saw, "@")
	desc := tag
	if sha != "" {
		desc += " on " + ShortSHA(sha)
	}
	switch {
	case tag != now.Promotes:
		return true, desc
	case sha != "" && (len(sha) < 7 || !strings.HasPrefix(now.Commit, strings.ToLower(sha))):
		return true, desc
	case shown.Promotes == tag && !slices.Equal(shown.Without, now.Without):
		return true, candidateName(shown.Promotes, shown.Commit, shown.Without)
	}
	return false, desc
}

// candidateName names an approved candidate in a sentence: "v0.5.0-dev.4
// on abc1234", with the hotfixes it leaves out.
func candidateName(promotes, commit string, without []string) string {
	n := promotes + " on " + ShortSHA(commit)
	if len(without) > 0 {
		n += " without hotfix " + strings.Join(without, ", ")
	}
	return n
}

// splitApprovals separates the approvals of candidate c from those given
// for another (earlier) candidate.
func splitApprovals(all []SignOffRecord, c Candidate) (counted, stale []SignOffRecord) {
	for _, r := range all {
		if r.Approves(c) {
			counted = append(counted, r)
		} else {
			stale = append(stale, r)
		}
	}
	return counted, stale
}

// onCallOrReleaser permits a train's on-call and releasers (the reminder's buttons).
func onCallOrReleaser(t Train) permit {
	return permit{roles: []Role{Releaser}, onCall: t.OnCall, who: "the train's on-call or releasers"}
}

// Confirm records that by is on the train ("I'm on it"): a confirmed train
// is cut at its slot; an unconfirmed one is skipped. Who may is checked on
// the read of the train the confirmation is stored against.
func (s *Service) Confirm(ctx context.Context, by, ref string) (SignOffResult, error) {
	added := false // over the tries: a retry after a conflict finds this one's own sign-off
	for range 3 {
		t, err := s.comingTrain(ctx, ref)
		if err != nil {
			s.audit(ctx, by, "confirm", storedID(t), ref, err)
			return SignOffResult{}, err
		}
		if err := s.authorize(ctx, by, "confirm", storedID(t), onCallOrReleaser(t)); err != nil {
			return SignOffResult{}, err
		}
		a, err := s.store.AddSignOff(ctx, t.ID, Confirmation, SignOffRecord{User: by, At: s.clock.Now()})
		if err != nil {
			return SignOffResult{}, err
		}
		added = added || a
		if t.ConfirmedBy == "" {
			t.ConfirmedBy = by
		}
		if t.State != Confirmed && t.State != Postponed {
			if err := t.MoveTo(Confirmed, s.clock.Now()); err != nil {
				return SignOffResult{}, userErr("%v", err)
			}
		}
		t, err = s.save(ctx, t, Fence{})
		if errors.Is(err, ErrConflict) {
			continue // someone else changed it; read it (and who may) again
		}
		if err != nil {
			return SignOffResult{}, err
		}
		s.audit(ctx, by, "confirm", t.ID, "", nil)
		res := SignOffResult{Train: t, Added: added, Need: s.cfg.StagingApprovals}
		var all []SignOffRecord
		if t.Track == Staging {
			if all, err = s.store.SignOffs(ctx, t.ID, Approval); err != nil {
				return res, err
			}
			res.Approvals, res.Stale = splitApprovals(all, t.Candidate)
		}
		s.refreshReminder(ctx, t, all)
		return res, nil
	}
	return SignOffResult{}, fmt.Errorf("confirm %s: %w", ref, ErrConflict)
}

// Skip skips a coming train; it is announced with who skipped it and why.
// Who may is checked on the read of the train the skip is stored against.
func (s *Service) Skip(ctx context.Context, by, ref, reason string) (Train, error) {
	reason = CleanText(reason)
	for range 3 {
		t, err := s.comingTrain(ctx, ref)
		if err != nil {
			s.audit(ctx, by, "skip", storedID(t), ref, err)
			return Train{}, err
		}
		if err := s.authorize(ctx, by, "skip", storedID(t), onCallOrReleaser(t)); err != nil {
			return Train{}, err
		}
		t.SkippedBy, t.Reason = by, reason
		if err := t.MoveTo(Skipped, s.clock.Now()); err != nil {
			return Train{}, userErr("%v", err)
		}
		t, err = s.save(ctx, t, Fence{})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Train{}, err
		}
		s.audit(ctx, by, "skip", t.ID, reason, nil)
		s.announceSkip(ctx, t, Text{T(t.Track.Title() + " " + string(t.ID) + " is skipped by "), U(by), T(reasonSuffix(reason))})
		s.refreshReminder(ctx, t, nil)
		return t, nil
	}
	return Train{}, fmt.Errorf("skip %s: %w", ref, ErrConflict)
}

func reasonSuffix(r string) string {
	if r == "" {
		return "."
	}
	return ": " + r
}

// announceSkip posts that a train is skipped and counts it.
func (s *Service) announceSkip(ctx context.Context, t Train, body Text) {
	if _, err := s.ann.Post(ctx, noticeMessage("⏭️ "+t.Track.Title()+" "+string(t.ID)+" skipped", body)); err != nil {
		s.log.Warn("announce skip", "train", string(t.ID), "err", err)
	}
	if s.obs != nil {
		s.obs.TrainEnded(string(t.Track), string(Skipped))
	}
}

// refreshReminder edits the train's latest reminder to show its state and
// who signed off; approvals are read when nil and the train is staging.
func (s *Service) refreshReminder(ctx context.Context, t Train, approvals []SignOffRecord) {
	if t.Reminder.TS == "" {
		return
	}
	if approvals == nil && t.Track == Staging {
		approvals, _ = s.store.SignOffs(ctx, t.ID, Approval)
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.ann.Edit(ectx, t.Reminder, s.reminderMessage(t, approvals)); err != nil {
		s.log.Warn("edit reminder", "train", string(t.ID), "err", err)
	}
}
