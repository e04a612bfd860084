package trains

import "time"

// Stats are the RFC's success metrics over a period (SPEC §5 `stats`).
type Stats struct {
	From, To time.Time
	// Deploys counts deploy workflow runs; TueWed those that started on a
	// Tuesday or Wednesday (UTC).
	Deploys, TueWed int
	// Unscheduled counts deploys whose ref is not a train tag.
	Unscheduled int
	// Hotfixes counts hotfix trains.
	Hotfixes int
	// Rollbacks counts rollback trains (Train.RollsBack).
	Rollbacks int
	// Postponed counts trains postponed by a quiet window.
	Postponed int
	// Skipped counts skipped trains, for any reason.
	Skipped int
	// OffSchedule counts trains cut outside their slot.
	OffSchedule int
	// Deployed and Failed count trains by outcome.
	Deployed, Failed int
	// ApprovalWaits counts trains whose deploy run waited for a GitHub
	// Environment's reviewers, and ApprovalWait is how long they waited in
	// all (a wait still going on counts up to To).
	ApprovalWaits int
	ApprovalWait  time.Duration
	// Unverified counts deployed trains no instance was seen to run
	// before the verification timeout (live verification, issue 13).
	Unverified int
}

// TueWedShare is the share of deploys on Tuesday or Wednesday, from 0 to 1,
// and false when there were no deploys.
func (s Stats) TueWedShare() (float64, bool) {
	if s.Deploys == 0 {
		return 0, false
	}
	return float64(s.TueWed) / float64(s.Deploys), true
}

// in reports whether t falls in [from, to).
func in(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

// ComputeStats computes the stats of [from, to) from deploy records and
// train records. Deploys count by when they ran, trains by their slot
// (postponements by the slot they were postponed from).
func ComputeStats(from, to time.Time, deploys []DeployRecord, trains []Train) Stats {
	s := Stats{From: from, To: to}
	for _, d := range deploys {
		if !in(d.At, from, to) {
			continue
		}
		s.Deploys++
		if wd := d.At.UTC().Weekday(); wd == time.Tuesday || wd == time.Wednesday {
			s.TueWed++
		}
		if d.Unscheduled() {
			s.Unscheduled++
		}
	}
	for _, t := range trains {
		if !t.PostponedFrom.IsZero() && t.Window != "" && in(t.PostponedFrom, from, to) {
			s.Postponed++
		}
		if !in(t.At, from, to) {
			continue
		}
		if t.Track == Hotfix {
			s.Hotfixes++
		}
		if t.RollsBack != "" {
			s.Rollbacks++
		}
		if t.OffSchedule {
			s.OffSchedule++
		}
		if waited := t.Waited + t.gateWait(to); waited > 0 {
			s.ApprovalWaits++
			s.ApprovalWait += waited
		}
		switch t.State {
		case Skipped:
			s.Skipped++
		case Deployed:
			s.Deployed++
			if t.Live == Unverified {
				s.Unverified++
			}
		case Failed:
			s.Failed++
		}
	}
	return s
}

// gateWait is how long t's deploy run has waited, up to now, for the
// review it waits on; 0 when it waits on none.
func (t Train) gateWait(now time.Time) time.Duration {
	if t.Gate == nil || t.State.Final() {
		return 0
	}
	return max(now.Sub(t.Gate.Since), 0)
}
