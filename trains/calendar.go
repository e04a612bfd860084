package trains

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// CalendarPath is where the RFC keeps the calendar in the repository.
const CalendarPath = "docs/governance/release-calendar.md"

// CalendarEntry is one coming train in the calendar.
type CalendarEntry struct {
	Slot Slot
	// At is when the train leaves: the slot, or later when postponed.
	At    time.Time
	State State
	// Candidate is the tag the train would make, when known.
	Candidate string
	// OnCall is the Slack user id on call, empty when unassigned.
	OnCall string
	// SkippedBy is the Slack user id of who skipped the train by hand;
	// Notes then hold their reason.
	SkippedBy string
	Notes     []string
	// Moves counts the times the train was moved from its slot, stored
	// or foreseen from the quiet windows (the feed's SEQUENCE).
	Moves int
}

// Calendar is the next trains with their on-call, the quiet windows that
// touch them and the recent hotfixes.
type Calendar struct {
	GeneratedAt time.Time
	Trains      []CalendarEntry
	// Windows are the active and planned quiet windows, by start.
	Windows []Window
	// Hotfixes are the recent hotfix trains, newest first.
	Hotfixes []Train
	// Rollbacks are the recent rollback trains, newest first (since
	// HotfixesSince too).
	Rollbacks []Train
}

// CalendarInput is what a calendar is built from.
type CalendarInput struct {
	Now      time.Time
	Schedule Schedule
	Rotation Rotation
	Windows  []Window
	// Trains are stored trains: the coming ones give state and on-call,
	// hotfixes among them are listed.
	Trains []Train
	// Candidates are the tags the next train of each track would make, when known.
	Candidates map[Track]string
	// Count is how many trains to list (4 when zero).
	Count int
	// HotfixesSince lists hotfixes at or after this time (30 days before Now when zero).
	HotfixesSince time.Time
}

// BuildCalendar builds the calendar: the next trains in time order with
// what the quiet windows do to them (SPEC §3, §5).
func BuildCalendar(in CalendarInput) Calendar {
	n := in.Count
	if n <= 0 {
		n = 4
	}
	stored := map[TrainID]Train{}
	for _, t := range in.Trains {
		stored[t.ID] = t
	}
	cal := Calendar{GeneratedAt: in.Now}
	seenCandidate := map[Track]bool{}
	for _, slot := range in.Schedule.Upcoming(in.Now, n) {
		e := CalendarEntry{Slot: slot, At: slot.At, State: Scheduled}
		e.OnCall, _ = in.Rotation.Assignee(in.Schedule, slot)
		if t, ok := stored[slot.ID()]; ok {
			e.State, e.Moves = t.State, t.Moves
			if e.Moves == 0 && !t.PostponedFrom.IsZero() {
				e.Moves = 1 // postponed before trains counted their moves
			}
			if e.Moves > 0 {
				e.At = t.At // moved, and perhaps confirmed since
			}
			if t.OnCall != "" {
				e.OnCall = t.OnCall
			}
			if t.Tag != "" {
				e.Candidate = t.Tag
			}
			switch {
			case t.State == Skipped && t.SkippedBy != "":
				e.SkippedBy = t.SkippedBy
				if t.Reason != "" {
					e.Notes = append(e.Notes, t.Reason)
				}
			case t.State == Skipped:
				e.Notes = append(e.Notes, "skipped: "+t.Reason)
			case t.State == Postponed:
				e.At = t.At
				e.Notes = append(e.Notes, fmt.Sprintf("postponed to %s by quiet window: %s", t.At.UTC().Format(TimeLayout), t.WindowReason))
			}
		}
		if e.State != Skipped && e.State != Postponed && e.Moves == 0 {
			next, _ := in.Schedule.After(slot.Track, slot.At)
			switch d := Decide(slot, next.At, in.Windows); d.Action {
			case Postpone:
				e.At = d.At
				e.State = Postponed
				e.Moves++
				e.Notes = append(e.Notes, fmt.Sprintf("postponed to %s by quiet window: %s", d.At.UTC().Format(TimeLayout), d.Window.Reason))
			case SkipSlot:
				e.State = Skipped
				e.Notes = append(e.Notes, "skipped by quiet window: "+d.Window.Reason)
			}
		}
		if e.Candidate == "" && !seenCandidate[slot.Track] && e.State != Skipped {
			e.Candidate = in.Candidates[slot.Track]
			seenCandidate[slot.Track] = true
		}
		cal.Trains = append(cal.Trains, e)
	}
	active, planned := Current(in.Windows, in.Now)
	cal.Windows = append(active, planned...)

	since := in.HotfixesSince
	if since.IsZero() {
		since = in.Now.Add(-30 * 24 * time.Hour)
	}
	for _, t := range in.Trains {
		if t.Track == Hotfix && !t.At.Before(since) && !t.At.After(in.Now) {
			cal.Hotfixes = append(cal.Hotfixes, t)
		}
		if t.RollsBack != "" && !t.At.Before(since) && !t.At.After(in.Now) {
			cal.Rollbacks = append(cal.Rollbacks, t)
		}
	}
	slices.SortFunc(cal.Rollbacks, func(a, b Train) int { return b.At.Compare(a.At) })
	slices.SortFunc(cal.Hotfixes, func(a, b Train) int { return b.At.Compare(a.At) })
	return cal
}

// Markdown renders the calendar as the file the RFC names (CalendarPath).
// name turns a Slack user id into what the file shows; nil shows the id.
func (c Calendar) Markdown(name func(user string) string) string {
	if name == nil {
		name = func(u string) string { return u }
	}
	person := func(u string) string {
		if u == "" {
			return "unassigned"
		}
		return mdCell(name(u))
	}
	var b strings.Builder
	b.WriteString("# Release calendar\n\n")
	fmt.Fprintf(&b, "Generated by trainbot at %s. All times are UTC. Regenerate with `trainbot calendar`; do not edit by hand.\n\n", c.GeneratedAt.UTC().Format(TimeLayout))
	b.WriteString("| Train | Track | Time (UTC) | Tag candidate | On-call | Notes |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, e := range c.Trains {
		cand := e.Candidate
		if cand == "" {
			cand = "—"
		}
		notes := mdCell(strings.Join(e.Notes, "; "))
		if e.SkippedBy != "" {
			notes = strings.TrimSuffix("skipped by "+person(e.SkippedBy)+"; "+notes, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", e.Slot.ID(), e.Slot.Track,
			e.At.UTC().Format("2006-01-02 15:04"), mdCell(cand), person(e.OnCall), notes)
	}
	b.WriteString("\n## Quiet windows\n\n")
	if len(c.Windows) == 0 {
		b.WriteString("None active or planned.\n")
	}
	for _, w := range c.Windows {
		fmt.Fprintf(&b, "- %s → %s: %s (declared by %s)\n", w.From.UTC().Format(TimeLayout),
			w.Until.UTC().Format(TimeLayout), mdText(w.Reason), person(w.By))
	}
	b.WriteString("\n## Recent hotfixes\n\n")
	if len(c.Hotfixes) == 0 {
		b.WriteString("None in the last 30 days.\n")
	}
	for _, h := range c.Hotfixes {
		tag := h.Tag
		if tag == "" {
			tag = string(h.ID)
		}
		fmt.Fprintf(&b, "- %s, %s, %s: %s (by %s)\n", mdText(tag), h.At.UTC().Format(TimeLayout), h.State, mdText(h.Reason), person(h.CutBy))
	}
	if len(c.Rollbacks) > 0 { // shown only when there were: most months have none
		b.WriteString("\n## Recent rollbacks\n\n")
	}
	for _, r := range c.Rollbacks {
		fmt.Fprintf(&b, "- %s: %s back to %s, %s, %s: %s (by %s)\n", r.ID, mdText(r.RollsBack), mdText(r.Tag),
			r.At.UTC().Format(TimeLayout), r.State, mdText(r.Reason), person(r.CutBy))
	}
	return b.String()
}

// mdText makes user text safe on one Markdown line.
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer("<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "`", "\\`", "*", `\*`, "_", `\_`)
	return r.Replace(s)
}

// mdCell makes user text safe in a Markdown table cell.
func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", `\|`) }
