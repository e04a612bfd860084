package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func runHelp(_ context.Context, c *call) (trains.Message, error) {
	if len(c.args) == 0 {
		return c.h.helpMessage(nil), nil
	}
	name := strings.ToLower(c.arg(0))
	if cmd := c.h.find(name); cmd != nil {
		return c.h.helpMessage(cmd), nil
	}
	if near := c.h.nearest(name); near != nil {
		return c.h.helpMessage(near), nil
	}
	return c.h.helpMessage(nil), nil
}

func noArgs(c *call) error {
	if len(c.args) > 0 {
		return c.usage("%s takes no arguments.", c.cmd.name)
	}
	return nil
}

func runCalendar(ctx context.Context, c *call) (trains.Message, error) {
	if err := noArgs(c); err != nil {
		return trains.Message{}, err
	}
	if c.given("publish") {
		pub, err := c.h.deps.Service.PublishCalendar(ctx, c.req.User)
		if err != nil {
			return trains.Message{}, err
		}
		return trains.CalendarSaid(c.h.deps.Service.Config().CalendarPath, pub), nil
	}
	cal, err := c.h.deps.Service.Calendar(ctx, trains.CalendarOptions{Candidates: true})
	if err != nil {
		return trains.Message{}, err
	}
	return calendarMessage(cal), nil
}

// calendarMessage shows the calendar in Slack: times in each reader's zone.
func calendarMessage(cal trains.Calendar) trains.Message {
	m := trains.Message{Blocks: []trains.Block{{Kind: trains.Header, Text: trains.Text{trains.T("🗓️ Release calendar")}}}}
	for _, e := range cal.Trains {
		t := trains.Text{trains.B(string(e.Slot.ID())), trains.T(" — "), trains.D(e.At), trains.T(" — on-call: ")}
		if e.OnCall == "" {
			t = append(t, trains.T("unassigned"))
		} else {
			t = append(t, trains.U(e.OnCall))
		}
		if e.Candidate != "" {
			t = append(t, trains.T(" — "), trains.C(e.Candidate))
		}
		if e.State != trains.Scheduled {
			t = append(t, trains.T(" — "+string(e.State)))
		}
		if e.SkippedBy != "" {
			t = append(t, trains.T(" by "), trains.U(e.SkippedBy))
		}
		for _, n := range e.Notes {
			t = append(t, trains.T(" — "+n))
		}
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: t})
	}
	for _, w := range cal.Windows {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Context, Text: windowLine(w)})
	}
	if len(cal.Hotfixes) > 0 {
		t := trains.Text{trains.T("Recent hotfixes: ")}
		for i, h := range cal.Hotfixes {
			if i > 0 {
				t = append(t, trains.T("; "))
			}
			t = append(t, trains.C(h.Tag), trains.T(" ("+string(h.State)+"): "+h.Reason))
		}
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Context, Text: t})
	}
	if len(cal.Rollbacks) > 0 {
		t := trains.Text{trains.T("Recent rollbacks: ")}
		for i, r := range cal.Rollbacks {
			if i > 0 {
				t = append(t, trains.T("; "))
			}
			t = append(t, trains.T(string(r.ID)+" "), trains.C(r.RollsBack), trains.T(" → "), trains.C(r.Tag), trains.T(" ("+string(r.State)+"): "+r.Reason))
		}
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Context, Text: t})
	}
	return m
}

// windowLine is a quiet window as a line of a list.
func windowLine(w trains.Window) trains.Text {
	return append(trains.Text{trains.T("⏸️ Quiet window ")}, w.Summary()...)
}

func runPause(ctx context.Context, c *call) (trains.Message, error) {
	if len(c.args) == 0 {
		active, planned, err := c.h.deps.Service.Windows(ctx)
		if err != nil {
			return trains.Message{}, err
		}
		if len(active)+len(planned) == 0 {
			return trains.Say(trains.T("No quiet window is active or planned. Declare one with "), trains.C("/train pause 6h <reason>"), trains.T(".")), nil
		}
		m := trains.Message{}
		for _, w := range active {
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: append(trains.Text{trains.B("Active: ")}, windowLine(w)...)})
		}
		for _, w := range planned {
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: append(trains.Text{trains.B("Planned: ")}, windowLine(w)...)})
		}
		return m, nil
	}
	req, err := parsePause(c)
	if err != nil {
		return trains.Message{}, err
	}
	res, err := c.h.deps.Service.Pause(ctx, req)
	if err != nil {
		return trains.Message{}, err
	}
	t := append(trains.Text{trains.T("⏸️ Quiet window declared: ")}, res.Window.Summary()...)
	if len(res.Affected) == 0 {
		t = append(t, trains.T(". No train falls in it."))
	} else {
		t = append(t, trains.T(fmt.Sprintf(". %d train(s) affected; the channel was told.", len(res.Affected))))
	}
	return trains.Say(t...), nil
}

// parsePause reads `<duration> <reason>`, `until <time> <reason>` or
// `from <time> until <time> <reason>`; a time is one word (RFC 3339) or two
// (YYYY-MM-DD HH:MM).
func parsePause(c *call) (trains.PauseRequest, error) {
	now := c.h.deps.Service.Now()
	req := trains.PauseRequest{By: c.req.User}
	i := 0
	readTime := func() (time.Time, error) {
		if i >= len(c.args) {
			return time.Time{}, c.usage("A time is missing: write 2026-12-02T18:00Z or 2026-12-02 18:00 (UTC).")
		}
		if i+1 < len(c.args) {
			if t, err := trains.ParseTime(c.args[i].text + " " + c.args[i+1].text); err == nil {
				i += 2
				return t, nil
			}
		}
		t, err := trains.ParseTime(c.args[i].text)
		if err != nil {
			return time.Time{}, c.usage("%v.", err)
		}
		i++
		return t, nil
	}
	switch strings.ToLower(c.arg(0)) {
	case "from":
		i = 1
		from, err := readTime()
		if err != nil {
			return req, err
		}
		if strings.ToLower(c.arg(i)) != "until" {
			return req, c.usage("After `from <time>` write `until <time>`.")
		}
		i++
		until, err := readTime()
		if err != nil {
			return req, err
		}
		req.From, req.Until = from, until
	case "until":
		i = 1
		until, err := readTime()
		if err != nil {
			return req, err
		}
		req.Until = until
	default:
		d, err := trains.ParseDuration(c.arg(0))
		if err != nil {
			return req, c.usage("%v; or write `until <time>` or `from <time> until <time>`.", err)
		}
		i = 1
		req.Until = now.Add(d)
	}
	req.Reason = humanText(c.rest(i))
	if req.Reason == "" {
		return req, c.usage("A quiet window needs a reason, so people know why trains are held.")
	}
	return req, nil
}

func runResume(ctx context.Context, c *call) (trains.Message, error) {
	if err := noArgs(c); err != nil {
		return trains.Message{}, err
	}
	ended, err := c.h.deps.Service.Resume(ctx, c.req.User)
	if err != nil {
		return trains.Message{}, err
	}
	return trains.Say(trains.T(fmt.Sprintf("▶️ Ended %d quiet window(s); trains run again.", len(ended)))), nil
}

func runOnCall(ctx context.Context, c *call) (trains.Message, error) {
	svc := c.h.deps.Service
	switch strings.ToLower(c.arg(0)) {
	case "":
		v, err := svc.OnCall(ctx)
		if err != nil {
			return trains.Message{}, err
		}
		return onCallMessage(v), nil
	case "rotation":
		var members []string
		for _, a := range c.args[1:] {
			u, ok := parseMention(a.text)
			if !ok {
				return trains.Message{}, c.usage("%q is not a person: mention them as @name.", humanText(a.text))
			}
			members = append(members, u)
		}
		if len(members) == 0 {
			return trains.Message{}, c.usage("Name the people on the rotation, in order.")
		}
		if err := svc.SetRotation(ctx, c.req.User, members); err != nil {
			return trains.Message{}, err
		}
		v, err := svc.OnCall(ctx)
		if err != nil {
			return trains.Message{}, err
		}
		m := onCallMessage(v)
		m.Blocks = append([]trains.Block{{Kind: trains.Section, Text: trains.Text{trains.T("✅ Rotation set.")}}}, m.Blocks...)
		return m, nil
	case "set":
		if len(c.args) != 3 {
			return trains.Message{}, c.usage("Write `oncall set <train> @name`.")
		}
		u, ok := parseMention(c.arg(2))
		if !ok {
			return trains.Message{}, c.usage("%q is not a person: mention them as @name.", humanText(c.arg(2)))
		}
		id, err := svc.SetOnCall(ctx, c.req.User, strings.ToLower(c.arg(1)), u)
		if err != nil {
			return trains.Message{}, err
		}
		return trains.Say(trains.U(u), trains.T(" is on call for "+string(id)+".")), nil
	case "swap":
		if len(c.args) != 3 {
			return trains.Message{}, c.usage("Write `oncall swap @a @b`.")
		}
		a, okA := parseMention(c.arg(1))
		b, okB := parseMention(c.arg(2))
		if !okA || !okB {
			return trains.Message{}, c.usage("Mention the two people as @name.")
		}
		ov, err := svc.Swap(ctx, c.req.User, a, b)
		if err != nil {
			return trains.Message{}, err
		}
		t := trains.Text{trains.T("🔁 Swapped: ")}
		for i, a := range ov {
			if i > 0 {
				t = append(t, trains.T("; "))
			}
			t = append(t, trains.T(string(a.Slot.ID())+" → "), trains.U(a.User))
		}
		return trains.Say(t...), nil
	}
	return trains.Message{}, c.usage("%q is not an oncall subcommand.", humanText(c.arg(0)))
}

func onCallMessage(v trains.OnCallView) trains.Message {
	m := trains.Message{}
	if v.Set {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: append(trains.Text{trains.B("Rotation: ")}, trains.People(v.Rotation.Members)...)})
	} else {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.T("No rotation is set; a releaser sets one with "), trains.C("/train oncall rotation @a @b @c"), trains.T(".")}})
	}
	var fields []trains.Field
	for _, a := range v.Next {
		val := trains.Text{trains.T("unassigned")}
		if a.User != "" {
			val = trains.Text{trains.U(a.User)}
			if a.Override {
				val = append(val, trains.T(" (set by hand)"))
			}
		}
		fields = append(fields, trains.Field{Label: string(a.Slot.ID()), Value: val})
	}
	m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Fields, Fields: fields})
	return m
}

func runLine(ctx context.Context, c *call) (trains.Message, error) {
	if len(c.args) != 1 {
		return trains.Message{}, c.usage("Give the new line, e.g. `line 0.6.0`.")
	}
	l, err := trains.ParseLine(c.arg(0))
	if err != nil {
		return trains.Message{}, c.usage("%v.", err)
	}
	prev, err := c.h.deps.Service.StartLine(ctx, c.req.User, l)
	if err != nil {
		return trains.Message{}, err
	}
	return trains.Say(trains.T("📏 The next dev train starts line "+l.String()+" (was "+prev.String()+"): "), trains.C("v"+l.String()+"-dev.1"), trains.T(".")), nil
}

func runHistory(ctx context.Context, c *call) (trains.Message, error) {
	n := 10
	if len(c.args) > 1 {
		return trains.Message{}, c.usage("history takes at most one number.")
	}
	if len(c.args) == 1 {
		v, err := strconv.Atoi(c.arg(0))
		if err != nil || v < 1 || v > 50 {
			return trains.Message{}, c.usage("%q is not a number from 1 to 50.", humanText(c.arg(0)))
		}
		n = v
	}
	ts, err := c.h.deps.Service.History(ctx, n)
	if err != nil {
		return trains.Message{}, err
	}
	if len(ts) == 0 {
		return trains.Say(trains.T("No trains yet.")), nil
	}
	var t trains.Text
	for i, tr := range ts {
		if i > 0 {
			t = append(t, trains.T("\n"))
		}
		t = append(t, trains.B(string(tr.ID)), trains.T(" "), trains.D(tr.At), trains.T(" "+string(tr.State)))
		if tr.Tag != "" {
			t = append(t, trains.T(" "), trains.C(tr.Tag))
		}
		if tr.RollsBack != "" {
			t = append(t, trains.T(" ↩️ rolled back from "), trains.C(tr.RollsBack))
		}
		if tr.Live != trains.NotVerified {
			t = append(t, trains.T(" ("+string(tr.Live)+")"))
		}
		if n := len(tr.Attempts); n > 0 {
			t = append(t, trains.T(fmt.Sprintf(" (%d deploy attempts)", n+1)))
		}
		if why := tr.Why(); why.Plain() != "" {
			t = append(t, trains.T(" — "))
			t = append(t, why...)
		}
	}
	return trains.Say(t...), nil
}

func runStats(ctx context.Context, c *call) (trains.Message, error) {
	days := 30
	if len(c.args) > 1 {
		return trains.Message{}, c.usage("stats takes at most one period, e.g. 30d.")
	}
	if len(c.args) == 1 {
		v, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(c.arg(0)), "d"))
		if err != nil || v < 1 || v > 366 {
			return trains.Message{}, c.usage("%q is not a number of days from 1d to 366d.", humanText(c.arg(0)))
		}
		days = v
	}
	st, err := c.h.deps.Service.Stats(ctx, time.Duration(days)*24*time.Hour)
	if err != nil {
		return trains.Message{}, err
	}
	share := "no deploys"
	if s, ok := st.TueWedShare(); ok {
		share = fmt.Sprintf("%.0f%% (%d of %d; target ≥ 70%%)", s*100, st.TueWed, st.Deploys)
	}
	f := func(label, v string) trains.Field { return trains.Field{Label: label, Value: trains.Text{trains.T(v)}} }
	return trains.Message{Blocks: []trains.Block{
		{Kind: trains.Header, Text: trains.Text{trains.T(fmt.Sprintf("📊 The last %d days", days))}},
		{Kind: trains.Fields, Fields: []trains.Field{
			f("Deploys on Tue/Wed", share),
			f("Unscheduled deploys", fmt.Sprintf("%d (target 0)", st.Unscheduled)),
			f("Postponed by quiet windows", strconv.Itoa(st.Postponed)),
			f("Hotfixes", strconv.Itoa(st.Hotfixes)),
			f("Rollbacks", strconv.Itoa(st.Rollbacks)),
			f("Skipped trains", strconv.Itoa(st.Skipped)),
			f("Off-schedule cuts", strconv.Itoa(st.OffSchedule)),
			f("Deployed / failed", deployedFailed(st)),
			f("Waiting for approval", approvalWait(st)),
		}},
	}}, nil
}

// deployedFailed counts trains by outcome: "5 / 1", and the deployed ones
// no instance was seen to run, when there are: "5 / 1 (2 unverified)".
func deployedFailed(st trains.Stats) string {
	out := fmt.Sprintf("%d / %d", st.Deployed, st.Failed)
	if st.Unverified > 0 {
		out += fmt.Sprintf(" (%d unverified: no instance reported the tag in time)", st.Unverified)
	}
	return out
}

// approvalWait says how long deploys waited at the GitHub Environments
// gate: "1h 5m over 2 trains (33m on average)", or "none".
func approvalWait(st trains.Stats) string {
	if st.ApprovalWaits == 0 {
		return "none"
	}
	if st.ApprovalWaits == 1 {
		return trains.Duration(st.ApprovalWait) + " (1 train)"
	}
	return fmt.Sprintf("%s over %d trains (%s on average)", trains.Duration(st.ApprovalWait), st.ApprovalWaits,
		trains.Duration(st.ApprovalWait/time.Duration(st.ApprovalWaits)))
}
