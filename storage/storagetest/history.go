package storagetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// History is how much a team's history holds over a span of time: what a
// store holds after that long, for the scale benchmarks of the embedded
// store and the round-trip test of Redis.
type History struct {
	Span                           time.Duration
	Trains, Deploys, Audit, Window int
}

// FiveYears is five years of a busy team (issue 10): about 400 trains,
// 5,000 deploy records, 50,000 audit entries and 500 quiet windows.
var FiveYears = History{Span: 5 * 365 * 24 * time.Hour, Trains: 400, Deploys: 5000, Audit: 50000, Window: 500}

// Days is d days of the same team at the same pace as FiveYears.
func Days(d int) History {
	f := func(n int) int { return max(1, n*d/(5*365)) }
	return History{Span: time.Duration(d) * 24 * time.Hour, Trains: f(FiveYears.Trains),
		Deploys: f(FiveYears.Deploys), Audit: f(FiveYears.Audit), Window: f(FiveYears.Window)}
}

// Upcoming are the trains not yet run at the end of every history: the
// next dev and staging trains. Every history holds them, so the reads of
// open trains and the calendar find the same ones after any span.
func Upcoming(now time.Time) []trains.Train {
	return []trains.Train{
		{ID: "dev-upcoming", Track: trains.Dev, At: now.Add(6 * 24 * time.Hour), State: trains.Scheduled},
		{ID: "staging-upcoming", Track: trains.Staging, At: now.Add(13 * 24 * time.Hour), State: trains.Scheduled},
	}
}

// Fill writes h into s through the port, oldest first, ending at now:
// finished trains (every tenth with an on-call override, each with an
// approval), deploy records, audit entries naming the latest train, and
// six-hour quiet windows, spread evenly over the span and interleaved in
// time; then the Upcoming trains and a quiet window to come. setNow is
// called with each write's time before it, so a store whose clock it sets
// applies its retention as it would have.
func (h History) Fill(ctx context.Context, s trains.Store, setNow func(time.Time), now time.Time) error {
	type event struct {
		at   time.Time
		kind int
		i    int
	}
	const (
		kTrain = iota
		kDeploy
		kAudit
		kWindow
	)
	var evs []event
	start := now.Add(-h.Span)
	spread := func(kind, n int) {
		for i := range n {
			evs = append(evs, event{start.Add(h.Span / time.Duration(n) * time.Duration(i)), kind, i})
		}
	}
	spread(kTrain, h.Trains)
	spread(kDeploy, h.Deploys)
	spread(kAudit, h.Audit)
	spread(kWindow, h.Window)
	slices.SortStableFunc(evs, func(a, b event) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.kind, b.kind)) })
	latest := trains.TrainID("")
	for _, e := range evs {
		setNow(e.at)
		var err error
		switch e.kind {
		case kTrain:
			t := trains.Train{ID: trains.TrainID(fmt.Sprintf("dev-%s-%d", e.at.Format("2006-01-02"), e.i)), Track: trains.Dev, At: e.at, State: trains.Deployed}
			if _, err = s.CreateTrain(ctx, t); err != nil {
				break
			}
			latest = t.ID
			if _, err = s.AddSignOff(ctx, t.ID, trains.Approval, trains.SignOffRecord{User: "UVAL", At: e.at, Promotes: "v0.5.0-dev.4", Commit: "c4"}); err != nil {
				break
			}
			if e.i%10 == 0 {
				err = s.SetOverrides(ctx, map[trains.TrainID]string{t.ID: "UOPS"})
			}
		case kDeploy:
			err = s.RecordDeploy(ctx, trains.DeployRecord{RunID: int64(e.i + 1), At: e.at, Ref: "v0.5.0-dev.4", Track: trains.Dev, Conclusion: "success"})
		case kAudit:
			err = s.Audit(ctx, trains.AuditEntry{At: e.at, User: "UREL", Action: "approve", Train: latest, Detail: "approved v0.5.0-dev.4", Result: "ok"})
		case kWindow:
			err = s.PutWindow(ctx, trains.Window{ID: fmt.Sprintf("w%d", e.i), From: e.at, Until: e.at.Add(6 * time.Hour), Reason: "chain upgrade", By: "UOPS", Created: e.at})
		}
		if err != nil {
			return fmt.Errorf("fill %s of history: %w", h.Span, err)
		}
	}
	setNow(now)
	if err := s.SetRotation(ctx, []string{"UREL", "UOPS"}, start); err != nil {
		return err
	}
	for _, t := range Upcoming(now) {
		if _, err := s.CreateTrain(ctx, t); err != nil {
			return err
		}
	}
	return s.PutWindow(ctx, trains.Window{ID: "w-coming", From: now.Add(2 * 24 * time.Hour), Until: now.Add(3 * 24 * time.Hour), Reason: "chain upgrade", By: "UOPS", Created: now})
}

// CommandRead is what one command, or a scheduler tick, reads from the
// store at now: the same calls trains.Service makes for it.
type CommandRead struct {
	Name string
	Read func(ctx context.Context, s trains.Store, now time.Time) error
}

const month = 30 * 24 * time.Hour

// CommandReads are the store reads of every command and of a scheduler
// tick. Each is the calls of trains.Service (cut.go, pause.go, report.go,
// scheduler.go) with their arguments; a read that must find something
// fails when it finds nothing, so a benchmark never times an empty answer.
var CommandReads = []CommandRead{
	{"Windows (cut, hotfix, pause)", func(ctx context.Context, s trains.Store, now time.Time) error {
		ws, err := s.Windows(ctx, now)
		return atLeast("quiet windows to come", len(ws), 1, err)
	}},
	{"OpenTrains", func(ctx context.Context, s trains.Store, _ time.Time) error {
		ts, err := s.OpenTrains(ctx)
		return atLeast("open trains", len(ts), 2, err)
	}},
	{"ListTrains of a month", func(ctx context.Context, s trains.Store, now time.Time) error {
		ts, err := s.ListTrains(ctx, trains.TrainQuery{From: now.Add(-month), To: now})
		return atLeast("trains of the month", len(ts), 1, err)
	}},
	{"Deploys of a month", func(ctx context.Context, s trains.Store, now time.Time) error {
		ds, err := s.Deploys(ctx, now.Add(-month), now)
		return atLeast("deploys of the month", len(ds), 1, err)
	}},
	{"AuditLog 20", func(ctx context.Context, s trains.Store, _ time.Time) error {
		es, err := s.AuditLog(ctx, "", 20)
		return atLeast("audit entries", len(es), 20, err)
	}},
	{"/train calendar", func(ctx context.Context, s trains.Store, now time.Time) error {
		st, err := trains.ReadCalendarState(ctx, s, now, trains.TrainQuery{From: now.Add(-month)})
		return atLeast("calendar trains", len(st.Trains), 2, err)
	}},
	{"/train stats (30d)", func(ctx context.Context, s trains.Store, now time.Time) error {
		now = now.Add(time.Nanosecond)
		if _, err := s.Deploys(ctx, now.Add(-month), now); err != nil {
			return err
		}
		ts, err := s.ListTrains(ctx, trains.TrainQuery{From: now.Add(-month), To: now.Add(trains.MaxDuration)})
		return atLeast("trains for stats", len(ts), 2, err)
	}},
	{"/train history 5", func(ctx context.Context, s trains.Store, _ time.Time) error {
		ts, err := s.ListTrains(ctx, trains.TrainQuery{Newest: 5})
		return atLeast("trains of history", len(ts), 3, err)
	}},
	{"/train history <train>", func(ctx context.Context, s trains.Store, now time.Time) error {
		ts, err := s.ListTrains(ctx, trains.TrainQuery{To: now, Newest: 1})
		if err = atLeast("the last train", len(ts), 1, err); err != nil {
			return err
		}
		if _, err := s.GetTrain(ctx, ts[0].ID); err != nil {
			return err
		}
		es, err := s.AuditLog(ctx, ts[0].ID, 20)
		return atLeast("the train's audit entries", len(es), 1, err)
	}},
	{"scheduler tick", func(ctx context.Context, s trains.Store, now time.Time) error {
		if _, err := s.Windows(ctx, now.Add(-time.Hour)); err != nil {
			return err
		}
		if _, err := s.Rotation(ctx); err != nil {
			return err
		}
		if _, err := s.OpenTrains(ctx); err != nil {
			return err
		}
		ts, err := s.OpenTrains(ctx)
		return atLeast("open trains", len(ts), 2, err)
	}},
}

func atLeast(what string, n, want int, err error) error {
	if err == nil && n < want {
		err = fmt.Errorf("found %d %s, want at least %d: the history was not filled", n, what, want)
	}
	return err
}
