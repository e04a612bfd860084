package trains

import (
	"fmt"
	"slices"
	"time"
)

// State is where a train is in its life (SPEC §2).
type State string

// The states of a train.
const (
	Scheduled  State = "scheduled"
	Announced  State = "announced"
	Confirmed  State = "confirmed"
	Tagged     State = "tagged"
	Publishing State = "publishing"
	Deploying  State = "deploying"
	Deployed   State = "deployed"
	Failed     State = "failed"
	Skipped    State = "skipped"
	Postponed  State = "postponed"
)

// transitions lists, for each state, the states a train may move to.
var transitions = map[State][]State{
	Scheduled:  {Announced, Confirmed, Skipped, Postponed},
	Announced:  {Confirmed, Skipped, Postponed},
	Confirmed:  {Tagged, Skipped, Postponed, Failed},
	Postponed:  {Announced, Confirmed, Skipped, Postponed},
	Tagged:     {Publishing, Deploying, Failed},
	Publishing: {Deploying, Failed},
	Deploying:  {Deployed, Failed},
	// A failed train is final unless someone retries its deploy (Retry):
	// then it deploys its tag again.
	Failed: {Deploying},
}

// Final reports whether nothing more happens to a train in state s.
func (s State) Final() bool { return s == Deployed || s == Failed || s == Skipped }

// CanMoveTo reports whether a train in state s may move to next.
func (s State) CanMoveTo(next State) bool { return slices.Contains(transitions[s], next) }

// TransitionError is returned for a move a train's life does not allow.
type TransitionError struct {
	Train    TrainID
	From, To State
}

// Error says which move was refused.
func (e *TransitionError) Error() string {
	if e.From.Final() {
		return fmt.Sprintf("train %s is already %s, so it cannot become %s", e.Train, e.From, e.To)
	}
	return fmt.Sprintf("train %s is %s and cannot become %s", e.Train, e.From, e.To)
}

// MessageRef points at a Slack message: the announcement a train's steps are
// threaded under.
type MessageRef struct {
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

// Train is one train: a scheduled slot, an off-schedule cut or a hotfix,
// and how far it has gone.
type Train struct {
	ID    TrainID `json:"id"`
	Track Track   `json:"track"`
	// At is the train's slot, or when it was cut when off schedule.
	At    time.Time `json:"at"`
	State State     `json:"state"`
	// Version is the store's compare-and-set version: 0 before the train
	// is first stored; each stored change adds one.
	Version int64 `json:"version"`

	// Tag is the tag the train makes; it is set before the tag exists so
	// that a retry or a restart makes that same tag.
	Tag    string `json:"tag,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Previous is the previous tag of the train's track, for "changes".
	Previous string `json:"previous,omitempty"`

	OnCall      string `json:"on_call,omitempty"`
	ConfirmedBy string `json:"confirmed_by,omitempty"`
	CutBy       string `json:"cut_by,omitempty"`
	// SkippedBy is who skipped the train by hand; empty when trainbot
	// skipped it (Reason says why).
	SkippedBy string `json:"skipped_by,omitempty"`
	// ApprovedBy are the validators whose approvals a staging cut used.
	ApprovedBy  []string `json:"approved_by,omitempty"`
	OffSchedule bool     `json:"off_schedule,omitempty"`
	Forced      bool     `json:"forced,omitempty"`
	// Reason says why a train was skipped or postponed, or why a hotfix was
	// made: a person's words (plain text, never markup) or trainbot's.
	Reason string `json:"reason,omitempty"`
	// Window is the id of the quiet window that postponed or skipped the
	// train, or that was active when a hotfix was made.
	Window string `json:"window,omitempty"`
	// WindowReason is that window's reason, for announcements.
	WindowReason string `json:"window_reason,omitempty"`
	// PostponedFrom is the original slot of a postponed train.
	PostponedFrom time.Time `json:"postponed_from,omitzero"`
	// Moves counts the times the train was moved from its slot (each
	// postponement): the calendar feed's SEQUENCE grows with it.
	Moves int `json:"moves,omitempty"`

	PublishRunID int64     `json:"publish_run_id,omitempty"`
	DispatchedAt time.Time `json:"dispatched_at,omitzero"`
	DeployRunID  int64     `json:"deploy_run_id,omitempty"`
	DeployURL    string    `json:"deploy_url,omitempty"`
	// Gate is the GitHub Environment review the deploy run waits on, while
	// it waits; nil otherwise. It is stored before the thread is told, so
	// that the thread is told once.
	Gate *Gate `json:"gate,omitempty"`
	// Waited is how long the deploy run waited for reviews, in all.
	Waited time.Duration `json:"waited,omitempty"`
	// Error says why a failed train failed.
	Error string `json:"error,omitempty"`
	// Attempts are the train's earlier deploy runs, oldest first: each
	// failed run a retry replaced (Retry). The current run is DeployRunID.
	Attempts []Attempt `json:"attempts,omitempty"`
	// EarlierRun is the newest deploy run on the train's tag made before
	// the train (a rollback's tag was deployed before): the train's own
	// runs come after it, and one at or below it is never taken for one.
	EarlierRun int64 `json:"earlier_run,omitempty"`
	// RollsBack is, for a rollback train (Rollback), the tag it takes the
	// environment back from; empty for every other train.
	RollsBack string `json:"rolls_back,omitempty"`
	// Live is whether the deployed tag was seen live (Verification), and
	// Instances how many instances reported it.
	Live      Verification `json:"live,omitempty"`
	Instances int          `json:"instances,omitempty"`
	// ReplacedBy is, for a Superseded verification, the tag whose deploy
	// to the same environment replaced the train's before it was seen.
	ReplacedBy string `json:"replaced_by,omitempty"`
	// LiveSince is when the verification began (the deploy run was seen
	// to succeed): its deadline is counted from it, also after a restart.
	LiveSince time.Time `json:"live_since,omitzero"`

	// Candidate is what the train ships (or would, before its cut): shown
	// in reminders and announcements.
	Candidate Candidate `json:"candidate,omitzero"`
	// Message is the cut announcement, Reminder the latest reminder (with
	// its buttons); both are edited as the train moves.
	Message  MessageRef `json:"message,omitzero"`
	Reminder MessageRef `json:"reminder,omitzero"`
	Created  time.Time  `json:"created"`
	Updated  time.Time  `json:"updated"`
}

// Candidate is what a train ships: its tag, its commit and the commits
// since the previous tag of its track.
type Candidate struct {
	Tag    string `json:"tag,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Promotes is the dev tag a staging train promotes (its commit is
	// Commit), and Without the hotfixes that promotion leaves out: with
	// Commit, what a validator approves.
	Promotes   string   `json:"promotes,omitempty"`
	Without    []string `json:"without,omitempty"`
	CommitURL  string   `json:"commit_url,omitempty"`
	Previous   string   `json:"previous,omitempty"`
	Commits    int      `json:"commits,omitempty"`
	CompareURL string   `json:"compare_url,omitempty"`
	// Extra counts, for a hotfix, the commits it ships besides the fix
	// that are not yet in Beyond (the staging tag, or it and the newest
	// hotfix since); Behind the commits of the staging tag it lacks. A
	// hotfix ships either only when forced (HotfixScope).
	Extra  int    `json:"extra,omitempty"`
	Beyond string `json:"beyond,omitempty"`
	Behind int    `json:"behind,omitempty"`
	// Lacks is the newest hotfix tag since the staging tag that a hotfix
	// does not build on: deploying it takes that fix out of production.
	Lacks string `json:"lacks,omitempty"`
	// Nothing says why there is nothing to ship, when there is not.
	Nothing string `json:"nothing,omitempty"`
}

// Candidate summarises the plan.
func (p Plan) Candidate() Candidate {
	c := Candidate{Commit: p.Commit.SHA, CommitURL: p.Commit.URL, Previous: p.Previous,
		Commits: p.Comparison.Total, CompareURL: p.Comparison.URL, Nothing: p.Nothing}
	if !p.Tag.IsZero() {
		c.Tag = p.Tag.String()
	}
	if !p.Promotes.IsZero() {
		c.Promotes = p.Promotes.String()
		for _, m := range p.Missing {
			c.Without = append(c.Without, m.String())
		}
	}
	return c
}

// Why says why a train was skipped, postponed or made, naming who skipped
// it by hand as a mention.
func (t Train) Why() Text {
	if t.SkippedBy == "" {
		return Text{T(t.Reason)}
	}
	out := Text{T("skipped by "), U(t.SkippedBy)}
	if t.Reason != "" {
		out = append(out, T(": "+t.Reason))
	}
	return out
}

// MoveTo moves the train to state next at time now, or returns a
// *TransitionError when its life does not allow that move.
func (t *Train) MoveTo(next State, now time.Time) error {
	if !t.State.CanMoveTo(next) {
		return &TransitionError{Train: t.ID, From: t.State, To: next}
	}
	t.State = next
	t.Updated = now
	return nil
}

// SignOffError says why a staging train may not be cut yet.
type SignOffError struct {
	Need int
	// Counted are the approvals that count; Ignored those that do not, with why.
	Counted []string
	Ignored map[string]string
}

// Error says how many approvals are missing.
func (e *SignOffError) Error() string {
	return fmt.Sprintf("staging needs %d validator approval(s) from someone other than the person cutting it; it has %d",
		e.Need, len(e.Counted))
}

// SignOff checks the two-person rule of SPEC §2: at least need approvals
// from validators other than cutter. It returns the approvals that count,
// or a *SignOffError saying what is missing.
func SignOff(approvals []string, cutter string, isValidator func(user string) bool, need int) ([]string, error) {
	var counted []string
	ignored := map[string]string{}
	for _, u := range approvals {
		switch {
		case u == cutter:
			ignored[u] = "is the person cutting the train"
		case !isValidator(u):
			ignored[u] = "is not a validator"
		case !slices.Contains(counted, u):
			counted = append(counted, u)
		}
	}
	if len(counted) < need {
		return counted, &SignOffError{Need: need, Counted: counted, Ignored: ignored}
	}
	return counted, nil
}
