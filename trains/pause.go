package trains

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// PauseRequest declares a quiet window (SPEC §3).
type PauseRequest struct {
	// From is when it starts; zero means now.
	From   time.Time
	Until  time.Time
	Reason string
	By     string
}

// PauseResult is the window declared and what it does to coming trains.
type PauseResult struct {
	Window Window
	// Affected are the coming trains the window holds, with what happens to each.
	Affected []Affected
}

// Affected is a train a quiet window holds.
type Affected struct {
	Slot     Slot
	Decision Decision
}

// Pause declares a quiet window.
func (s *Service) Pause(ctx context.Context, req PauseRequest) (PauseResult, error) {
	if err := s.authorize(ctx, req.By, "pause", "", anyRole(ChainOps, Releaser)); err != nil {
		return PauseResult{}, err
	}
	now := s.clock.Now()
	w := Window{From: req.From, Until: req.Until, Reason: CleanText(req.Reason), By: req.By, Created: now}
	if w.From.IsZero() || w.From.Before(now) {
		w.From = now
	}
	if !w.Until.After(now) {
		return PauseResult{}, userErr("the window would end at %s, which has passed: give a time in the future (UTC)", req.Until.UTC().Format(TimeLayout))
	}
	if err := w.Validate(); err != nil {
		return PauseResult{}, userErr("%v", err)
	}
	if w.Until.Sub(w.From) > MaxDuration {
		return PauseResult{}, userErr("a quiet window may last at most %d days", MaxDuration/(24*time.Hour))
	}
	w.ID = "w" + strconv.FormatInt(now.UnixNano(), 36) + "-" + strconv.FormatInt(s.seq(), 36)
	ws, err := s.store.Windows(ctx, now)
	if err != nil {
		return PauseResult{}, err
	}
	if err := s.store.PutWindow(ctx, w); err != nil {
		return PauseResult{}, err
	}
	s.audit(ctx, req.By, "pause", "", fmt.Sprintf("%s → %s: %s", w.From.Format(TimeLayout), w.Until.Format(TimeLayout), w.Reason), nil)
	res := PauseResult{Window: w}
	all := append(ws, w)
	for _, slot := range s.cfg.Schedule.Between(w.From, w.Until) {
		next, _ := s.cfg.Schedule.After(slot.Track, slot.At)
		res.Affected = append(res.Affected, Affected{Slot: slot, Decision: Decide(slot, next.At, all)})
	}
	body := append(Text{T("No trains leave ")}, w.Summary()...)
	var ctxLines []Text
	for _, a := range res.Affected {
		ctxLines = append(ctxLines, affectedText(a))
	}
	ctxLines = append(ctxLines, Text{T("Hotfixes still go out: "), C("/train hotfix"), T(". End it early with "), C("/train resume"), T(".")})
	if _, err := s.ann.Post(ctx, noticeMessage("⏸️ Quiet window", body, ctxLines...)); err != nil {
		s.log.Warn("announce pause", "err", err)
	}
	return res, nil
}

// affectedText says what a window does to a train.
func affectedText(a Affected) Text {
	id := string(a.Slot.ID())
	switch a.Decision.Action {
	case Postpone:
		return Text{T(id + " is postponed to "), D(a.Decision.At)}
	case SkipSlot:
		return Text{T(id + " is skipped (the window lasts past the next " + string(a.Slot.Track) + " slot)")}
	}
	return Text{T(id + " runs as planned")}
}

// Resume ends the active quiet windows now (SPEC §3).
func (s *Service) Resume(ctx context.Context, by string) ([]Window, error) {
	if err := s.authorize(ctx, by, "resume", "", anyRole(ChainOps, Releaser)); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	ws, err := s.store.Windows(ctx, now)
	if err != nil {
		return nil, err
	}
	active, planned := Current(ws, now)
	if len(active) == 0 {
		msg := "no quiet window is active, so there is nothing to resume"
		if len(planned) > 0 {
			msg += fmt.Sprintf("; %d planned — see `/train pause`", len(planned))
		}
		err := userErr("%s", msg)
		s.audit(ctx, by, "resume", "", "", err)
		return nil, err
	}
	var ended []Window
	for _, w := range active {
		e, err := EndEarly(w, now, by)
		if err != nil {
			return ended, userErr("%v", err)
		}
		if err := s.store.PutWindow(ctx, e); err != nil {
			return ended, err
		}
		ended = append(ended, e)
		s.audit(ctx, by, "resume", "", "ended window "+w.ID+": "+w.Reason, nil)
	}
	body := Text{T("Trains run again: "), U(by), T(" ended the quiet window")}
	for _, e := range ended {
		body = append(body, T(" “"+e.Reason+"”"))
	}
	if _, err := s.ann.Post(ctx, noticeMessage("▶️ Trains resume", body)); err != nil {
		s.log.Warn("announce resume", "err", err)
	}
	return ended, nil
}

// Windows returns the active and the planned quiet windows.
func (s *Service) Windows(ctx context.Context) (active, planned []Window, err error) {
	now := s.clock.Now()
	ws, err := s.store.Windows(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	active, planned = Current(ws, now)
	return active, planned, nil
}

// activeWindow returns the quiet window active at now, the zero Window
// when none is: a hotfix or a rollback goes out in one, saying so loudly.
func (s *Service) activeWindow(ctx context.Context, now time.Time) (Window, error) {
	ws, err := s.store.Windows(ctx, now)
	if err != nil {
		return Window{}, err
	}
	w, _ := Active(ws, now)
	return w, nil
}
