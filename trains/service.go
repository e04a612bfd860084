package trains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// ServiceConfig is what the use cases need from the settings.
type ServiceConfig struct {
	Schedule         Schedule
	Soak             time.Duration
	Reminders        []time.Duration
	InitialLine      Line
	StagingApprovals int
	// Repo names the released repository in messages (owner/name).
	Repo string
	// DeployWorkflow and PublishWorkflow name the workflows in messages;
	// an empty PublishWorkflow means tags are not waited on.
	DeployWorkflow, PublishWorkflow string
	// DryRun marks announcements: nothing is really tagged or dispatched.
	DryRun bool
	// Instance names this replica in leases.
	Instance string
	// LockTTL is how long a track lock lasts unless renewed
	// (DefaultLeaseTTL when zero); the train renews it every third of that.
	LockTTL time.Duration
	// SlotGrace is how late a slot may still be acted on, e.g. after a
	// restart (1 hour when zero); later, the train is skipped.
	SlotGrace time.Duration
	// CalendarPath is the repository path of the calendar file committed
	// after each dev train's tag (TRAINBOT_CALENDAR_PATH); empty: off.
	CalendarPath string
	// VerifyTimeout is how long after its deploy run succeeded a train's
	// tag may take to be reported live (DefaultVerifyTimeout when zero),
	// and VerifyPoll the first wait between two questions
	// (DefaultVerifyPoll when zero). Live verification is on when
	// Deps.Live is given.
	VerifyTimeout, VerifyPoll time.Duration
}

// Observer hears about trains that end; metrics implement it.
type Observer interface {
	TrainEnded(track, outcome string)
}

// Deps are the ports the service works through, given to NewService.
type Deps struct {
	Store     Store
	Repo      Repo
	Announcer Announcer
	Roles     Roles
	Clock     Clock
	Log       *slog.Logger
	// Observer may be nil.
	Observer Observer
	// Calendar writes the calendar file; nil when the repository cannot
	// (the dry run): then the file is never written.
	Calendar CalendarPublisher
	// Live tells how many instances report a tag (TRAINBOT_PROMETHEUS_URL);
	// nil: live verification is off.
	Live LiveVersions
	// Names shows people by name in the calendar file; nil shows their ids.
	Names Names
}

// Service runs the use cases of trainbot: cutting, signing off, pausing,
// the rotation, the reports, and the scheduler's tick. Its ports are given
// once, to NewService; the trains it starts run under Run.
type Service struct {
	cfg   ServiceConfig
	store Store
	repo  Repo
	ann   Announcer
	roles Roles
	clock Clock
	log   *slog.Logger
	obs   Observer // may be nil
	// calendar writes the calendar file; may be nil.
	calendar CalendarPublisher
	// live asks whether a deployed tag is live; nil: off.
	live LiveVersions
	// names names people in the calendar file; may be nil.
	names Names

	running sync.WaitGroup // trains launched and not yet stopped
	// watching counts live verifications (live.go): Run waits for them
	// as it returns, Wait does not, as they only wait and resume anywhere.
	watching sync.WaitGroup
	// liveSettled is set once a tick with live verification off has ended
	// the verifications an earlier trainbot left (abandonVerifying).
	liveSettled atomic.Bool
	wake        chan struct{} // a train was queued for Run (buffered: one)

	mu      sync.Mutex
	active  map[TrainID]bool // trains running, or queued to run, in this process
	queued  []launched       // trains waiting for Run to start them
	stopped bool             // Run has returned: nothing more is started here
	holders int64            // counts the numbers seq gave
}

// seq returns a number this service has not returned before.
func (s *Service) seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holders++
	return s.holders
}

// holder names a new holder of a lease: this replica and a number.
func (s *Service) holder() string { return fmt.Sprintf("%s#%d", s.cfg.Instance, s.seq()) }

// isRunning reports whether train id runs in this process.
func (s *Service) isRunning(id TrainID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[id]
}

// NewService returns a service working through deps. The trains it starts
// run once Run runs.
func NewService(cfg ServiceConfig, deps Deps) *Service {
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = DefaultLeaseTTL
	}
	if cfg.SlotGrace <= 0 {
		cfg.SlotGrace = time.Hour
	}
	if cfg.Instance == "" {
		cfg.Instance = "trainbot"
	}
	if cfg.VerifyTimeout <= 0 {
		cfg.VerifyTimeout = DefaultVerifyTimeout
	}
	if cfg.VerifyPoll <= 0 {
		cfg.VerifyPoll = DefaultVerifyPoll
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: deps.Store, repo: deps.Repo, ann: deps.Announcer, roles: deps.Roles,
		clock: deps.Clock, log: deps.Log, obs: deps.Observer, calendar: deps.Calendar, live: deps.Live, names: deps.Names,
		wake: make(chan struct{}, 1), active: map[TrainID]bool{}}
}

// Config returns the service's settings.
func (s *Service) Config() ServiceConfig { return s.cfg }

// Now is the time on the service's clock.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Wait blocks until every train started in the background has stopped:
// finished, or stopped by the end of Run's context. A live verification
// (live.go) is not waited for: it only waits, and resumes anywhere.
func (s *Service) Wait() { s.running.Wait() }

// UserError is an error safe to show the person who asked: it says what
// happened and what to do. Nothing was changed. Its Text is data, not
// Slack markup: mentions travel as Mention spans, so every transport
// renders them its own way and a user's words are always escaped.
type UserError struct {
	Text Text
	// Forbidden marks a refusal for want of a role (SPEC §6).
	Forbidden bool
}

// Error is the message for the user as plain text.
func (e *UserError) Error() string { return e.Text.Plain() }

// userErr makes a *UserError of plain text.
func userErr(format string, args ...any) error {
	return &UserError{Text: Text{T(fmt.Sprintf(format, args...))}}
}

// refusal makes a *UserError of spans, for text that names people.
func refusal(spans ...Span) error { return &UserError{Text: spans} }

// maxAuditText bounds an audit entry's detail and result, in bytes.
const maxAuditText = 500

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// audit appends to the audit log; a failure is logged, not returned: the
// change it records has happened.
func (s *Service) audit(ctx context.Context, user, action string, train TrainID, detail string, err error) {
	result := "ok"
	var ue *UserError
	switch {
	case errors.As(err, &ue):
		result = "refused: " + ue.Error()
	case err != nil:
		result = "failed: " + err.Error()
	}
	// What a user typed is kept short, so a refusal of a long command
	// cannot make one entry large.
	e := AuditEntry{At: s.clock.Now(), User: user, Action: action, Train: train, Detail: clip(CleanText(detail), maxAuditText),
		Result: clip(result, maxAuditText)}
	if aerr := s.store.Audit(ctx, e); aerr != nil {
		s.log.Error("audit log write failed", "err", aerr, "action", action, "user", user, "train", string(train))
	}
}
