package trains

import (
	"context"
	"errors"
	"fmt"
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
	// Approvals are the train's approvals so far, Need how many it needs.
	Approvals []SignOffRecord
	Need      int
}

// comingTrain resolves ref to a train that has not left yet.
func (s *Service) comingTrain(ctx context.Context, ref string) (Train, error) {
	slot, err := s.TrainRef(ctx, ref)
	if err != nil {
		return Train{}, err
	}
	t, err := s.trainFor(ctx, slot)
	if err != nil {
		return t, err
	}
	switch {
	case t.State.Final():
		return t, userErr("train %s is already %s", t.ID, t.State)
	case t.inFlight():
		return t, userErr("train %s is already on its way (%s)", t.ID, t.State)
	}
	return t, nil
}

// Approve records a validator's approval of a staging train (SPEC §2). The
// role check is the caller's; the two-person rule is checked at the cut.
func (s *Service) Approve(ctx context.Context, by, ref string) (SignOffResult, error) {
	t, err := s.comingTrain(ctx, ref)
	if err != nil {
		s.audit(ctx, by, "approve", t.ID, ref, err)
		return SignOffResult{}, err
	}
	if t.Track != Staging {
		err := userErr("%s is a %s train: only staging trains need approval", t.ID, t.Track)
		s.audit(ctx, by, "approve", t.ID, "", err)
		return SignOffResult{}, err
	}
	added, err := s.Store.AddSignOff(ctx, t.ID, Approval, by, s.Clock.Now())
	if err != nil {
		return SignOffResult{}, err
	}
	s.audit(ctx, by, "approve", t.ID, map[bool]string{true: "approved", false: "already approved"}[added], nil)
	res := SignOffResult{Train: t, Added: added, Need: s.cfg.StagingApprovals}
	if res.Approvals, err = s.Store.SignOffs(ctx, t.ID, Approval); err != nil {
		return res, err
	}
	s.refreshReminder(ctx, t, res.Approvals)
	return res, nil
}

// Confirm records that by is on the train ("I'm on it"): a confirmed train
// is cut at its slot; an unconfirmed one is skipped.
func (s *Service) Confirm(ctx context.Context, by, ref string) (SignOffResult, error) {
	for range 3 {
		t, err := s.comingTrain(ctx, ref)
		if err != nil {
			s.audit(ctx, by, "confirm", t.ID, ref, err)
			return SignOffResult{}, err
		}
		if !t.Track.Scheduled() {
			return SignOffResult{}, userErr("%s is not a scheduled train", t.ID)
		}
		added, err := s.Store.AddSignOff(ctx, t.ID, Confirmation, by, s.Clock.Now())
		if err != nil {
			return SignOffResult{}, err
		}
		if t.ConfirmedBy == "" {
			t.ConfirmedBy = by
		}
		if t.State != Confirmed && t.State != Postponed {
			if err := t.MoveTo(Confirmed, s.Clock.Now()); err != nil {
				return SignOffResult{}, userErr("%v", err)
			}
		}
		t, err = s.save(ctx, t, Fence{})
		if errors.Is(err, ErrConflict) {
			continue // someone else changed it; read it again
		}
		if err != nil {
			return SignOffResult{}, err
		}
		s.audit(ctx, by, "confirm", t.ID, "", nil)
		res := SignOffResult{Train: t, Added: added, Need: s.cfg.StagingApprovals}
		if t.Track == Staging {
			if res.Approvals, err = s.Store.SignOffs(ctx, t.ID, Approval); err != nil {
				return res, err
			}
		}
		s.refreshReminder(ctx, t, res.Approvals)
		return res, nil
	}
	return SignOffResult{}, fmt.Errorf("confirm %s: %w", ref, ErrConflict)
}

// Skip skips a coming train; it is announced with who skipped it and why.
func (s *Service) Skip(ctx context.Context, by, ref, reason string) (Train, error) {
	reason = strings.TrimSpace(reason)
	for range 3 {
		t, err := s.comingTrain(ctx, ref)
		if err != nil {
			s.audit(ctx, by, "skip", t.ID, ref, err)
			return Train{}, err
		}
		t.Reason = "skipped by <@" + by + ">"
		if reason != "" {
			t.Reason += ": " + reason
		}
		if err := t.MoveTo(Skipped, s.Clock.Now()); err != nil {
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
		s.announceSkip(ctx, t, Text{T(title(t.Track) + " " + string(t.ID) + " is skipped by "), U(by), T(reasonSuffix(reason))})
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
	if _, err := s.Announcer.Post(ctx, noticeMessage("⏭️ "+title(t.Track)+" "+string(t.ID)+" skipped", body)); err != nil {
		s.Log.Warn("announce skip", "train", string(t.ID), "err", err)
	}
	if s.Observer != nil {
		s.Observer.TrainEnded(string(t.Track), string(Skipped))
	}
}

// refreshReminder edits the train's latest reminder to show its state and
// who signed off; approvals are read when nil and the train is staging.
func (s *Service) refreshReminder(ctx context.Context, t Train, approvals []SignOffRecord) {
	if t.Reminder.TS == "" {
		return
	}
	if approvals == nil && t.Track == Staging {
		approvals, _ = s.Store.SignOffs(ctx, t.ID, Approval)
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Announcer.Edit(ectx, t.Reminder, s.reminderMessage(t, approvals)); err != nil {
		s.Log.Warn("edit reminder", "train", string(t.ID), "err", err)
	}
}
