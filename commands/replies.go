package commands

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// planFields describe what a train would ship.
func planFields(p trains.Plan) []trains.Field {
	ships := trains.Text{trains.C(p.Tag.String()), trains.T(" on "), trains.C(trains.ShortSHA(p.Commit.SHA))}
	if t := p.Commit.Title(); t != "" {
		ships = append(ships, trains.T(" "+t))
	}
	fields := []trains.Field{{Label: "Would tag", Value: ships}}
	if p.Previous != "" {
		n := fmt.Sprintf("%d commit(s) since %s", p.Comparison.Total, p.Previous)
		v := trains.Text{trains.T(n)}
		if p.Comparison.URL != "" {
			v = trains.Text{trains.L(n, p.Comparison.URL)}
		}
		fields = append(fields, trains.Field{Label: "Changes", Value: v})
	} else {
		fields = append(fields, trains.Field{Label: "Changes", Value: trains.Text{trains.T("the first tag of its track")}})
	}
	if !p.Promotes.IsZero() {
		fields = append(fields, trains.Field{Label: "Promotes", Value: trains.Text{trains.C(p.Promotes.String())}})
	}
	var in []string
	for k, v := range p.Inputs {
		in = append(in, k+"="+v)
	}
	sort.Strings(in)
	fields = append(fields, trains.Field{Label: "Deploy inputs", Value: trains.Text{trains.C("ref=" + p.Tag.String() + " " + strings.Join(in, " "))}})
	return fields
}

func missingText(ms []trains.TrainTag) trains.Text {
	var t trains.Text
	for i, m := range ms {
		if i > 0 {
			t = append(t, trains.T(", "))
		}
		t = append(t, trains.C(m.String()), trains.T(" ("+trains.ShortSHA(m.Commit)+")"))
	}
	return t
}

// UnavailableReply answers a command that could not run because the state
// store cannot be reached (trains.ErrUnavailable): nothing was changed.
// The bot gives it too, when it cannot claim an envelope.
func UnavailableReply() trains.Message {
	return trains.Say(trains.T("⚠️ " + trains.ErrUnavailable.Error() + ". Try again in a minute; trainbot reconnects by itself."))
}

// cutReply tells the cutter how the cut went.
func cutReply(r trains.CutResult) trains.Message {
	sec := func(t ...trains.Span) trains.Message { return trains.Say(t...) }
	switch r.Outcome {
	case trains.CutPaused:
		w := r.Window
		return sec(trains.T("⏸️ Trains are paused until "), trains.D(w.Until), trains.T(" by "), trains.U(w.By),
			trains.T(" for “"+w.Reason+"”. Nothing was cut. Hotfixes still work: "), trains.C("/train hotfix <sha|branch> <reason>"), trains.T("."))
	case trains.CutBusy:
		return sec(trains.T("Another " + string(r.Plan.Track) + " cut is in progress. Nothing more was done; follow it in the channel."))
	case trains.CutNothing:
		return sec(trains.T("Nothing to ship: " + r.Plan.Nothing + ". No train was cut."))
	case trains.CutRunning:
		return sec(trains.T("Train "+string(r.Train.ID)+" is already on its way ("+string(r.Train.State)+", "), trains.C(r.Train.Tag), trains.T("); it continues. Follow it in the channel."))
	case trains.CutMissingHotfixes:
		t := append(trains.Text{trains.T("Staging refused: "), trains.C(r.Plan.Promotes.String()), trains.T(" does not contain these hotfixes made since the last staging tag: ")}, missingText(r.Plan.Missing)...)
		t = append(t, trains.T(". Promote a dev tag that has them, or "), trains.C("/train cut staging --force"), trains.T(" (it still needs the sign-off)."))
		return sec(t...)
	case trains.CutNeedsSignOff:
		t := trains.Text{trains.T(fmt.Sprintf("Staging needs %d validator approval(s) from someone other than you; it has %d", r.Need, len(r.Approvals)))}
		if len(r.SignOff.Ignored) > 0 {
			users := make([]string, 0, len(r.SignOff.Ignored))
			for u := range r.SignOff.Ignored {
				users = append(users, u)
			}
			sort.Strings(users)
			t = append(t, trains.T(" (not counted: "))
			for i, u := range users {
				if i > 0 {
					t = append(t, trains.T("; "))
				}
				t = append(t, trains.U(u), trains.T(" "+r.SignOff.Ignored[u]))
			}
			t = append(t, trains.T(")"))
		}
		t = append(t, trains.T(". Validators who can still approve: "))
		t = append(t, trains.People(r.CanSignOff)...)
		t = append(t, trains.T(" — with the Approve button or "), trains.C("/train approve next-staging"), trains.T("."))
		return sec(t...)
	case trains.CutPreview:
		m := trains.Message{Blocks: []trains.Block{{Kind: trains.Header, Text: trains.Text{trains.T("🔍 Dry run: " + string(r.Plan.Track) + " train")}}}}
		if r.Plan.Nothing != "" {
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.T("Nothing to ship: " + r.Plan.Nothing + ".")}})
			return m
		}
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Fields, Fields: planFields(r.Plan)})
		if cs := r.Plan.Comparison.Commits; len(cs) > 0 {
			var list trains.Text
			from := max(0, len(cs)-10) // the newest ten
			for i, cm := range cs[from:] {
				if i > 0 {
					list = append(list, trains.T("\n"))
				}
				list = append(list, trains.C(trains.ShortSHA(cm.SHA)), trains.T(" "+trains.Truncate(cm.Title(), 100)))
			}
			// The comparison may list fewer commits than it counts (GitHub
			// lists the newest 250): the older ones are all the others.
			if older := max(r.Plan.Comparison.Total, len(cs)) - (len(cs) - from); older > 0 {
				list = append(list, trains.T(fmt.Sprintf("\n… and %d older", older)))
			}
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: list})
		}
		var notes []trains.Text
		if r.Plan.Track == trains.Staging {
			s := trains.Text{trains.T(fmt.Sprintf("Sign-off: %d of %d approvals count", len(r.Approvals), r.Need))}
			s = append(s, trains.T("; can still approve: "))
			s = append(s, trains.People(r.CanSignOff)...)
			notes = append(notes, s)
			if len(r.Plan.Missing) > 0 {
				notes = append(notes, append(trains.Text{trains.T("Missing hotfixes (the cut needs --force): ")}, missingText(r.Plan.Missing)...))
			}
		}
		if r.Window.ID != "" {
			notes = append(notes, trains.Text{trains.T("⏸️ A quiet window is active (“" + r.Window.Reason + "”): a real cut would be refused now.")})
		}
		notes = append(notes, trains.Text{trains.T("Nothing was tagged or dispatched.")})
		for _, n := range notes {
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Context, Text: n})
		}
		return m
	}
	t := r.Train
	return sec(trains.T("🚂 Cutting "+string(t.ID)+": "), trains.C(t.Tag), trains.T(" on "), trains.C(trains.ShortSHA(t.Commit)),
		trains.T(". Each step is announced in the channel thread."))
}

// hotfixReply tells the caller how the hotfix went.
func hotfixReply(r trains.HotfixResult) trains.Message {
	t := r.Train
	switch r.Outcome {
	case trains.CutBusy:
		return trains.Say(trains.T("Another hotfix is in progress; try again when it is out. Nothing was done."))
	case trains.CutPreview:
		text := trains.Text{trains.T("🔍 Dry run: would tag "), trains.C(t.Tag), trains.T(" on "), trains.C(trains.ShortSHA(t.Commit)),
			trains.T(" and dispatch the deploy with environment=staging, release_type=hotfix. Nothing was done.")}
		if r.InWindow() {
			text = append(text, trains.T(" ⚠️ A quiet window is active: the hotfix would go out anyway, and say so loudly."))
		}
		return trains.Say(text...)
	}
	text := trains.Text{trains.T("🚑 Hotfix " + string(t.ID) + ": "), trains.C(t.Tag), trains.T(" on "), trains.C(trains.ShortSHA(t.Commit)), trains.T(" is on its way.")}
	if r.InWindow() {
		text = append(text, trains.T(" ⚠️ Trains are paused (“"+r.Window.Reason+"”); the hotfix goes out anyway and the channel was warned."))
	}
	return trains.Say(text...)
}
