package trains

import (
	"fmt"
	"strings"
)

// This file builds what trainbot posts in the validators' channel.

var stateIcon = map[State]string{
	Scheduled: "🗓️", Announced: "📣", Confirmed: "👍", Tagged: "🏷️", Publishing: "📦",
	Deploying: "🚀", Deployed: "✅", Failed: "❌", Skipped: "⏭️", Postponed: "⏸️",
}

// candidateText describes what a train ships.
func candidateText(c Candidate) Text {
	if c.Nothing != "" {
		return Text{T("nothing to ship: " + c.Nothing)}
	}
	if c.Commit == "" {
		return Text{T("not known yet")}
	}
	out := Text{}
	if c.Tag != "" {
		out = append(out, C(c.Tag), T(" on "))
	}
	if c.CommitURL != "" {
		out = append(out, L(ShortSHA(c.Commit), c.CommitURL))
	} else {
		out = append(out, C(ShortSHA(c.Commit)))
	}
	if c.Promotes != "" {
		out = append(out, T(", promoting "), C(c.Promotes))
	}
	if len(c.Without) > 0 {
		out = append(out, T(" — ⚠️ without hotfix "+strings.Join(c.Without, ", ")+" (only a forced cut ships it)"))
	}
	if c.Previous != "" {
		n := fmt.Sprintf("%d %s since %s", c.Commits, Plural(c.Commits, "commit", "commits"), c.Previous)
		if c.CompareURL != "" {
			out = append(out, T(" — "), L(n, c.CompareURL))
		} else {
			out = append(out, T(" — "+n))
		}
	}
	return out
}

// hotfixScopeText says what a forced hotfix ships beyond its fix, c its
// candidate and staging the staging tag it was measured against.
func hotfixScopeText(c Candidate, staging string) Text {
	var out Text
	if c.Extra > 0 {
		out = append(out, T(fmt.Sprintf("this hotfix also ships %d commit%s not yet in %s", c.Extra, Plural(c.Extra, "", "s"), c.Beyond)))
	}
	if c.Behind > 0 {
		if len(out) > 0 {
			out = append(out, T(", and"))
		} else {
			out = append(out, T("this hotfix does not build on "+staging+":"))
		}
		out = append(out, T(fmt.Sprintf(" it lacks %d commit%s of %s, which leave staging with this deploy", c.Behind, Plural(c.Behind, "", "s"), staging)))
	}
	if c.Lacks != "" {
		if len(out) > 0 {
			out = append(out, T(", and"))
		} else {
			out = append(out, T("this hotfix does not build on "+c.Lacks+":"))
		}
		out = append(out, T(" it lacks the fix of "+c.Lacks+", which leaves production with this deploy"))
	}
	return append(out, T("."))
}

// People is a list of mentions, or "nobody".
func People(users []string) Text {
	if len(users) == 0 {
		return Text{T("nobody")}
	}
	var t Text
	for i, u := range users {
		if i > 0 {
			t = append(t, T(", "))
		}
		t = append(t, U(u))
	}
	return t
}

func person(u string) Text {
	if u == "" {
		return Text{T("nobody")}
	}
	return Text{U(u)}
}

// cutMessage is the cut announcement: the top message of a train's thread,
// edited as the train moves.
func (s *Service) cutMessage(t Train, p Plan) Message {
	if p.Track != "" {
		t.Candidate = p.Candidate()
	}
	icon, state := stateIcon[t.State], string(t.State)
	if t.Live == Unverified {
		icon, state = "⚠️", state+" — unverified"
	}
	if t.Gate != nil && !t.State.Final() {
		icon, state = "⏳", state+" — waiting for approval"
	}
	head := fmt.Sprintf("%s %s %s", icon, t.Track.Title(), t.Tag)
	if t.RollsBack != "" {
		head = fmt.Sprintf("%s ↩️ Rollback of %s to %s", icon, t.Track.Environment(), t.Tag)
	}
	if s.cfg.DryRun {
		head += " (dry run)"
	}
	fields := []Field{
		{Label: "Train", Value: Text{T(string(t.ID))}},
		{Label: "State", Value: Text{T(state)}},
		{Label: "Ships", Value: candidateText(t.Candidate)},
		{Label: "Cut by", Value: person(t.CutBy)},
	}
	if t.Track != Hotfix {
		fields = append(fields, Field{Label: "On-call", Value: person(t.OnCall)})
	}
	if len(t.ApprovedBy) > 0 {
		fields = append(fields, Field{Label: "Approved by", Value: People(t.ApprovedBy)})
	}
	if t.RollsBack != "" {
		fields = append(fields, Field{Label: "Rolls back", Value: Text{C(t.RollsBack)}})
	}
	if len(t.Attempts) > 0 {
		fields = append(fields, Field{Label: "Earlier attempts", Value: attemptsText(t.Attempts)})
	}
	if t.DeployURL != "" {
		fields = append(fields, Field{Label: "Deploy run", Value: Text{L(fmt.Sprintf("run %d", t.DeployRunID), t.DeployURL)}})
	}
	if g := t.Gate; g != nil && !t.State.Final() {
		v := append(g.where(), T(" since "), D(g.Since), T(" — "+g.who()+" can approve"))
		if t.DeployURL != "" {
			v = append(v, T(": "), L("review", t.DeployURL))
		}
		fields = append(fields, Field{Label: "Waiting for approval", Value: v})
	}
	if t.Waited > 0 {
		fields = append(fields, Field{Label: "Waited for approval", Value: Text{T(Duration(t.Waited))}})
	}
	if live := s.liveText(t); live != nil {
		fields = append(fields, Field{Label: "Live", Value: live})
	}
	m := Message{Blocks: []Block{{Kind: Header, Text: Text{T(head)}}, {Kind: Fields, Fields: fields}}}
	var notes []Text
	if t.Reason != "" || t.SkippedBy != "" {
		notes = append(notes, append(Text{B("Reason: ")}, t.Why()...))
	}
	if t.RollsBack != "" {
		notes = append(notes, rollbackOutText(t))
	}
	if t.Window != "" && t.RollsBack != "" {
		notes = append(notes, Text{B("⚠️ Made during a quiet window: "), T(t.WindowReason), T(". Trains are paused; this rollback goes out anyway.")})
	}
	if t.Window != "" && t.Track == Hotfix {
		notes = append(notes, Text{B("⚠️ Made during a quiet window: "), T(t.WindowReason), T(". Trains are paused; this hotfix goes out anyway.")})
	}
	if t.OffSchedule {
		notes = append(notes, Text{T("Off schedule: cut outside its track's slot.")})
	}
	switch {
	case t.Forced && t.Track == Hotfix:
		notes = append(notes, append(Text{B("⚠️ Forced"), T(": ")}, hotfixScopeText(t.Candidate, t.Previous)...))
	case t.Forced:
		notes = append(notes, Text{B("Forced"), T(": promoted although hotfixes made since the last staging tag are missing.")})
	}
	if t.Error != "" {
		notes = append(notes, Text{B("Failed: "), T(t.Error)})
	}
	for _, n := range notes {
		m.Blocks = append(m.Blocks, Block{Kind: Context, Text: n})
	}
	if btns := afterDeployButtons(t); len(btns) > 0 && !s.cfg.DryRun {
		m.Blocks = append(m.Blocks, Block{Kind: Actions, Buttons: btns})
	}
	return m
}

// afterDeployButtons are the buttons of a train that went wrong (issue 13):
// Retry deploy on a train whose deploy failed, and Roll back on it or on a
// deployed train whose tag was not seen live. Each stands for a /train
// command, run as whoever clicks. The Roll back button's reason says where
// it was clicked: a button opens no form to type one.
func afterDeployButtons(t Train) []Button {
	var btns []Button
	if t.Retriable() {
		btns = append(btns, Button{ID: "retry", Label: "Retry deploy", Command: "retry " + string(t.ID), Style: "primary"})
	}
	// Rolling back a rollback would go one tag further back, not forward
	// again: a failed rollback offers Retry only.
	if t.RollsBack == "" && t.Tag != "" && (t.Retriable() || t.State == Deployed && t.Live == Unverified) {
		btns = append(btns, Button{ID: "rollback", Label: "Roll back", Style: "danger",
			Command: "rollback " + t.Tag + " " + RollbackButtonReason(t.ID)})
	}
	return btns
}

// RollbackButtonReason is the reason a Roll back button gives: where it
// was clicked.
func RollbackButtonReason(id TrainID) string {
	return "rolled back from " + string(id) + "'s announcement"
}

// attemptsText lists a train's earlier deploy attempts: each run, who
// started it and how it ended.
func attemptsText(as []Attempt) Text {
	var out Text
	for i, a := range as {
		if i > 0 {
			out = append(out, T("; "))
		}
		run := Text{T(fmt.Sprintf("#%d", a.N))}
		if a.RunID != 0 && a.URL == "" {
			run = Text{T(fmt.Sprintf("#%d run %d", a.N, a.RunID))}
		} else if a.RunID != 0 {
			run = Text{T(fmt.Sprintf("#%d ", a.N)), L(fmt.Sprintf("run %d", a.RunID), a.URL)}
		}
		out = append(out, run...)
		if !a.DispatchedAt.IsZero() {
			out = append(out, T(" "), D(a.DispatchedAt))
		}
		if a.By != "" {
			out = append(out, T(" by "), U(a.By))
		}
		out = append(out, T(" failed, retried by "), U(a.RetriedBy))
	}
	return out
}

// reminderMessage is a reminder of a coming train, with its buttons (SPEC §2).
func (s *Service) reminderMessage(t Train, approvals []SignOffRecord) Message {
	when := Text{T("leaves "), D(t.At)}
	if t.State == Postponed {
		when = Text{T("postponed to "), D(t.At)}
	}
	head := fmt.Sprintf("⏰ %s %s", t.Track.Title(), t.ID)
	fields := []Field{
		{Label: "When", Value: when},
		{Label: "Ships", Value: candidateText(t.Candidate)},
		{Label: "On-call", Value: person(t.OnCall)},
	}
	confirmed := Text{T("not yet — a train nobody confirms is skipped")}
	if t.ConfirmedBy != "" {
		confirmed = Text{U(t.ConfirmedBy), T(" is on it")}
	}
	fields = append(fields, Field{Label: "Confirmed", Value: confirmed})
	if t.Track == Staging {
		counted, stale := splitApprovals(approvals, t.Candidate)
		v := Text{T(fmt.Sprintf("%d of %d: ", len(counted), s.cfg.StagingApprovals))}
		for i, a := range counted {
			if i > 0 {
				v = append(v, T(", "))
			}
			v = append(v, U(a.User))
		}
		if len(counted) == 0 {
			v = append(v, T("none yet"))
		}
		if len(stale) > 0 {
			v = append(v, T(" — no longer counted, given for an earlier candidate: "))
			for i, a := range stale {
				if i > 0 {
					v = append(v, T(", "))
				}
				v = append(v, U(a.User), T(" ("+candidateName(a.Promotes, a.Commit, a.Without)+")"))
			}
			v = append(v, T("; please approve again"))
		}
		fields = append(fields, Field{Label: "Approvals", Value: v})
	}
	m := Message{Blocks: []Block{{Kind: Header, Text: Text{T(head)}}, {Kind: Fields, Fields: fields}}}
	switch {
	case t.State.Final():
		m.Blocks = append(m.Blocks, Block{Kind: Context, Text: append(Text{T(stateIcon[t.State] + " " + string(t.State) + " — ")}, t.Why()...)})
	case t.inFlight():
		m.Blocks = append(m.Blocks, Block{Kind: Context, Text: Text{T("🚂 The train is on its way; follow it in its thread.")}})
	default:
		btns := []Button{
			{ID: "confirm", Label: "I'm on it", Command: "confirm " + string(t.ID), Style: "primary"},
			{ID: "skip", Label: "Skip", Command: "skip " + string(t.ID), Style: "danger"},
		}
		if t.Track == Staging && t.Candidate.Promotes != "" {
			// The button signs what this reminder shows, no other candidate.
			btns = append(btns, Button{ID: "approve", Label: "Approve " + t.Candidate.Promotes,
				Command: "approve " + string(t.ID) + " " + t.Candidate.Promotes + "@" + t.Candidate.Commit})
		}
		m.Blocks = append(m.Blocks, Block{Kind: Actions, Buttons: btns})
	}
	return m
}

// noticeMessage is a one-off announcement: a skip, a postponement, a pause.
func noticeMessage(head string, body Text, context ...Text) Message {
	m := Message{Blocks: []Block{{Kind: Header, Text: Text{T(head)}}}}
	if len(body) > 0 {
		m.Blocks = append(m.Blocks, Block{Kind: Section, Text: body})
	}
	for _, c := range context {
		m.Blocks = append(m.Blocks, Block{Kind: Context, Text: c})
	}
	return m
}

// maxTitle bounds, in bytes, a commit title shown in an announcement.
const maxTitle = 120

// unscheduledMessage announces a run of the deploy workflow whose ref is
// not a train tag (SPEC §2): what it deployed — the commit, by short sha
// and the first line of its message — who triggered it, on what event,
// and a link to the run. The commit message is its author's text: it is
// shown as plain text (escaped by every renderer), its first line only.
func unscheduledMessage(workflow string, r Run) Message {
	unknown := Text{T("not known")}
	commit := unknown
	if r.SHA != "" {
		commit = Text{C(ShortSHA(r.SHA))}
		if title := clip(CleanText(r.Title()), maxTitle); title != "" {
			commit = append(commit, T(" "+title))
		}
	}
	actor := unknown
	if a := CleanText(r.Actor); a != "" {
		actor = Text{T(a)}
	}
	event := unknown
	if r.Event != "" {
		event = Text{C(r.Event)}
	}
	run := Text{T(fmt.Sprintf("run %d", r.ID))}
	if r.URL != "" {
		run = Text{L(fmt.Sprintf("run %d", r.ID), r.URL)}
	}
	return Message{Blocks: []Block{
		{Kind: Header, Text: Text{T("🚨 Unscheduled deploy")}},
		{Kind: Section, Text: Text{C(workflow), T(" ran on "), C(r.Ref), T(", which is not a train tag.")}},
		{Kind: Fields, Fields: []Field{
			{Label: "Commit", Value: commit},
			{Label: "Triggered by", Value: actor},
			{Label: "Event", Value: event},
			{Label: "Run", Value: run},
		}},
		{Kind: Context, Text: Text{T("Every deploy should map back to a train tag. This one is counted in "), C("/train stats"), T(".")}},
	}}
}
