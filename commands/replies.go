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

// hotfixReply tells the caller how the hotfix of ref went.
func hotfixReply(r trains.HotfixResult, ref string) trains.Message {
	t := r.Train
	switch r.Outcome {
	case trains.CutBusy:
		return trains.Say(trains.T("Another hotfix is in progress; try again when it is out. Nothing was done."))
	case trains.CutExtraCommits:
		text := trains.Text{trains.T("🛑 Not hotfixed: "), trains.C(ref), trains.T(" ("), trains.C(trains.ShortSHA(t.Commit)), trains.T(")")}
		if r.Scope.Extras > 0 {
			text = append(text, trains.T(" carries more than a fix"))
		}
		text = append(text, trains.T(". "))
		text = append(text, scopeText(r.Scope)...)
		text = append(text, trains.T("\nA hotfix is an emergency patch off the staging tag: cut a branch from "), trains.C(r.Scope.Base()),
			trains.T(", cherry-pick the fix onto it, and "), trains.C("/train hotfix <that branch> <reason>"),
			trains.T(". To ship all of it anyway: "), trains.C("/train hotfix "+ref+" <reason> --force"),
			trains.T(". Nothing was tagged or dispatched."))
		return trains.Say(text...)
	case trains.CutPreview:
		text := trains.Text{trains.T("🔍 Dry run: would tag "), trains.C(t.Tag), trains.T(" on "), trains.C(trains.ShortSHA(t.Commit)),
			trains.T(" and dispatch the deploy with environment=staging, release_type=hotfix.")}
		if !r.Scope.Clean() {
			text = append(text, trains.T("\n"))
			text = append(text, scopeText(r.Scope)...)
			if t.Forced {
				text = append(text, trains.T("\nWith --force it goes ahead, announced as forced."))
			} else {
				text = append(text, trains.T("\nSo a real hotfix of it needs --force; or cut a branch from "), trains.C(r.Scope.Base()),
					trains.T(", cherry-pick the fix onto it, and hotfix that branch."))
			}
		}
		if r.InWindow() {
			text = append(text, trains.T(" ⚠️ A quiet window is active: the hotfix would go out anyway, and say so loudly."))
		}
		return trains.Say(append(text, trains.T(" Nothing was done."))...)
	}
	text := trains.Text{trains.T("🚑 Hotfix " + string(t.ID) + ": "), trains.C(t.Tag), trains.T(" on "), trains.C(trains.ShortSHA(t.Commit)), trains.T(" is on its way.")}
	if t.Forced {
		text = append(text, trains.T(" ⚠️ Forced: "+forcedText(r.Scope)+"; the channel was told."))
	}
	if r.InWindow() {
		text = append(text, trains.T(" ⚠️ Trains are paused (“"+r.Window.Reason+"”); the hotfix goes out anyway and the channel was warned."))
	}
	return trains.Say(text...)
}

// maxScopeShown is how many of a hotfix's extra commits a reply lists.
const maxScopeShown = 5

// scopeText says what a hotfix ships beyond its fix: the newest of the
// extra commits, how many more there are, and what it lacks of staging.
func scopeText(sc trains.HotfixScope) trains.Text {
	var text trains.Text
	if sc.Extras > 0 {
		beyond := trains.Text{trains.C(sc.Staging)}
		if sc.Since != "" {
			beyond = append(beyond, trains.T(" or "), trains.C(sc.Since))
		}
		text = append(text, trains.T(fmt.Sprintf("This hotfix also ships %d commit%s not yet in staging (", sc.Extras, trains.Plural(sc.Extras, "", "s"))))
		text = append(text, beyond...)
		text = append(text, trains.T("):"))
		shown := sc.Extra[:min(len(sc.Extra), maxScopeShown)]
		for _, c := range shown {
			text = append(text, trains.T("\n• "), trains.C(trains.ShortSHA(c.SHA)), trains.T(" "+trains.Truncate(c.Title(), 100)))
		}
		if more := sc.Extras - len(shown); more > 0 {
			text = append(text, trains.T(fmt.Sprintf("\n• … and %d more", more)))
		}
		if sc.CompareURL != "" {
			text = append(text, trains.T("\n"), trains.L("compare with "+sc.Staging, sc.CompareURL))
		}
	}
	if sc.Behind > 0 {
		if len(text) > 0 {
			text = append(text, trains.T("\n"))
		}
		text = append(text, trains.T("It does not build on "), trains.C(sc.Staging),
			trains.T(fmt.Sprintf(": it lacks %d commit%s staging has, which this deploy would take off staging.", sc.Behind, trains.Plural(sc.Behind, "", "s"))))
	}
	if sc.Lacks != "" {
		if len(text) > 0 {
			text = append(text, trains.T("\n"))
		}
		text = append(text, trains.T("It does not build on the last hotfix, "), trains.C(sc.Lacks),
			trains.T(": it lacks the fix of "), trains.C(sc.Lacks), trains.T(", which this deploy would take out of production again."))
	}
	return text
}

// forcedText says, in a line, what a forced hotfix ships beyond its fix.
func forcedText(sc trains.HotfixScope) string {
	var parts []string
	if sc.Extras > 0 {
		parts = append(parts, fmt.Sprintf("it also ships %d commit%s not yet in %s", sc.Extras, trains.Plural(sc.Extras, "", "s"), sc.Beyond()))
	}
	if sc.Behind > 0 {
		parts = append(parts, fmt.Sprintf("it lacks %d commit%s of %s", sc.Behind, trains.Plural(sc.Behind, "", "s"), sc.Staging))
	}
	if sc.Lacks != "" {
		parts = append(parts, "it lacks the fix of "+sc.Lacks)
	}
	return strings.Join(parts, ", and ")
}
