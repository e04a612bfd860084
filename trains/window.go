package trains

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Window is a chain-ops quiet window: no train leaves in [From, Until) (SPEC §3).
type Window struct {
	ID     string    `json:"id"`
	From   time.Time `json:"from"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
	// By is who declared the window; EndedBy who ended it early, if anyone.
	By      string    `json:"by"`
	EndedBy string    `json:"ended_by,omitempty"`
	Created time.Time `json:"created"`
}

// Summary describes the window: "<from> → <until>: <reason> (by @who)".
func (w Window) Summary() Text {
	return Text{D(w.From), T(" → "), D(w.Until), T(": "), T(w.Reason), T(" (by "), U(w.By), T(")")}
}

// Validate checks the window ends after it starts and has a reason.
func (w Window) Validate() error {
	var problems []string
	if !w.Until.After(w.From) {
		problems = append(problems, fmt.Sprintf("it must end after it starts (%s)", w.From.UTC().Format(TimeLayout)))
	}
	if strings.TrimSpace(w.Reason) == "" {
		problems = append(problems, "it needs a reason, so people know why trains are held")
	}
	if len(problems) > 0 {
		return fmt.Errorf("quiet window refused: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.Until) }

// Planned reports whether the window has not started at now.
func (w Window) Planned(now time.Time) bool { return now.Before(w.From) }

// Over reports whether the window has ended at now.
func (w Window) Over(now time.Time) bool { return !now.Before(w.Until) }

// Active returns the window in force at now (the one that lasts longest when
// several are), and whether there is one.
func Active(ws []Window, now time.Time) (Window, bool) {
	var best Window
	found := false
	for _, w := range ws {
		if w.Contains(now) && (!found || w.Until.After(best.Until)) {
			best, found = w, true
		}
	}
	return best, found
}

// Current returns the active and the planned windows at now, each by start time.
func Current(ws []Window, now time.Time) (active, planned []Window) {
	for _, w := range ws {
		switch {
		case w.Contains(now):
			active = append(active, w)
		case w.Planned(now):
			planned = append(planned, w)
		}
	}
	byFrom := func(a, b Window) int { return a.From.Compare(b.From) }
	slices.SortFunc(active, byFrom)
	slices.SortFunc(planned, byFrom)
	return active, planned
}

// EndEarly ends an active window at now (`/train resume`). A planned window
// is cancelled (it ends before it starts, so it holds nothing). A window
// that is already over is an error.
func EndEarly(w Window, now time.Time, by string) (Window, error) {
	if w.Over(now) {
		return w, fmt.Errorf("the quiet window %q already ended at %s", w.Reason, w.Until.UTC().Format(TimeLayout))
	}
	if w.Planned(now) {
		w.Until = w.From
	} else {
		w.Until = now
	}
	w.EndedBy = by
	return w, nil
}

// Action is what the scheduler does with a slot.
type Action int

// The actions for a slot.
const (
	// RunSlot: no quiet window holds the slot.
	RunSlot Action = iota
	// Postpone: run at the end of the window instead.
	Postpone
	// Skip: the window lasts past the track's next slot.
	SkipSlot
)

// Decision is what happens to a slot given the quiet windows (SPEC §3).
type Decision struct {
	Action Action
	// At is when the train leaves: the slot, or the end of the window for Postpone.
	At time.Time
	// Window is the window that holds the slot, for Postpone and SkipSlot.
	Window Window
}

// Decide says what happens to slot, whose track's next slot is next: a slot
// inside a window is postponed to the window's end if that comes before
// next, otherwise skipped. Windows that touch end to end count as one.
func Decide(slot Slot, next time.Time, ws []Window) Decision {
	w, held := Active(ws, slot.At)
	if !held {
		return Decision{Action: RunSlot, At: slot.At}
	}
	end := w.Until
	for {
		more, ok := Active(ws, end)
		if !ok {
			break
		}
		end = more.Until
	}
	if end.Before(next) {
		return Decision{Action: Postpone, At: end, Window: w}
	}
	return Decision{Action: SkipSlot, At: slot.At, Window: w}
}
