package trains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
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
	// LockTTL is how long a track lock lasts unless renewed (2 minutes when zero).
	LockTTL time.Duration
	// SlotGrace is how late a slot may still be acted on, e.g. after a
	// restart (1 hour when zero); later, the train is skipped.
	SlotGrace time.Duration
}

// Observer hears about trains that end; metrics implement it.
type Observer interface {
	TrainEnded(track, outcome string)
}

// Deps are the ports the service works through.
type Deps struct {
	Store     Store
	Repo      Repo
	Announcer Announcer
	Roles     Roles
	Clock     Clock
	Log       *slog.Logger
	// Observer may be nil.
	Observer Observer
}

// Service runs the use cases of trainbot: cutting, signing off, pausing,
// the rotation, the reports, and the scheduler's tick.
type Service struct {
	cfg ServiceConfig
	Deps

	// base bounds the trains the service runs in the background.
	base    context.Context
	running sync.WaitGroup

	mu      sync.Mutex
	active  map[TrainID]bool // trains running in this process
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

// NewService returns a service. Trains it runs in the background (after a
// cut returns) stop when base is done; the next start resumes them.
func NewService(base context.Context, cfg ServiceConfig, deps Deps) *Service {
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = 2 * time.Minute
	}
	if cfg.SlotGrace <= 0 {
		cfg.SlotGrace = time.Hour
	}
	if cfg.Instance == "" {
		cfg.Instance = "trainbot"
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, Deps: deps, base: base, active: map[TrainID]bool{}}
}

// Config returns the service's settings.
func (s *Service) Config() ServiceConfig { return s.cfg }

// Wait blocks until every train running in the background has stopped:
// finished, or paused by the end of base.
func (s *Service) Wait() { s.running.Wait() }

// UserError is an error safe to show the person who asked: it says what
// happened and what to do. Nothing was changed.
type UserError struct{ Msg string }

// Error is the message for the user.
func (e *UserError) Error() string { return e.Msg }

// userErr makes a *UserError.
func userErr(format string, args ...any) error { return &UserError{Msg: fmt.Sprintf(format, args...)} }

// audit appends to the audit log; a failure is logged, not returned: the
// change it records has happened.
func (s *Service) audit(ctx context.Context, user, action string, train TrainID, detail string, err error) {
	result := "ok"
	var ue *UserError
	switch {
	case errors.As(err, &ue):
		result = "refused: " + ue.Msg
	case err != nil:
		result = "failed: " + err.Error()
	}
	e := AuditEntry{At: s.Clock.Now(), User: user, Action: action, Train: train, Detail: detail, Result: result}
	if aerr := s.Store.Audit(ctx, e); aerr != nil {
		s.Log.Error("audit log write failed", "err", aerr, "action", action, "user", user, "train", string(train))
	}
}

// Refused records a refusal (a missing role, a bad argument) in the audit log.
func (s *Service) Refused(ctx context.Context, user, action, why string) {
	s.audit(ctx, user, action, "", "", &UserError{Msg: why})
}

// TrainRef resolves what a user wrote for a train (SPEC §4): next,
// next-dev, next-staging, or an id such as dev-2026-12-01. A scheduled
// train resolves to its slot; others need a stored record.
func (s *Service) TrainRef(ctx context.Context, ref string) (Slot, error) {
	now := s.Clock.Now()
	switch ref {
	case "next":
		return s.cfg.Schedule.Upcoming(now, 1)[0], nil
	case "next-dev":
		sl, _ := s.cfg.Schedule.Next(Dev, now)
		return sl, nil
	case "next-staging":
		sl, _ := s.cfg.Schedule.Next(Staging, now)
		return sl, nil
	}
	id, track, day, err := ParseTrainID(ref)
	if err != nil {
		return Slot{}, userErr("%v; or write next, next-dev or next-staging", err)
	}
	if t, err := s.Store.GetTrain(ctx, id); err == nil {
		return Slot{Track: t.Track, At: t.At}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Slot{}, err
	}
	if track.Scheduled() && id == NewTrainID(track, day, 1) {
		if sl, _ := s.cfg.Schedule.Next(track, day); sl.ID() == id {
			return sl, nil
		}
		return Slot{}, userErr("there is no %s train on %s: %s trains run on %s", track, day.Format(time.DateOnly), track, s.slotTime(track))
	}
	return Slot{}, userErr("there is no train %s", id)
}

func (s *Service) slotTime(track Track) string {
	if track == Staging {
		return "every other " + s.cfg.Schedule.Staging.String()
	}
	return "every " + s.cfg.Schedule.Dev.String()
}

// trainFor returns the stored train of slot, or a new scheduled one (not
// yet stored: Version 0).
func (s *Service) trainFor(ctx context.Context, slot Slot) (Train, error) {
	t, err := s.Store.GetTrain(ctx, slot.ID())
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Train{}, err
	}
	now := s.Clock.Now()
	t = Train{ID: slot.ID(), Track: slot.Track, At: slot.At, State: Scheduled, Created: now, Updated: now}
	if r, err := s.Store.Rotation(ctx); err == nil {
		t.OnCall, _ = r.Assignee(s.cfg.Schedule, slot)
	} else if !errors.Is(err, ErrNotFound) {
		return Train{}, err
	}
	return t, nil
}

// save stores t: creates it when new (Version 0), else compare-and-sets it.
func (s *Service) save(ctx context.Context, t Train, fence Fence) (Train, error) {
	if t.Version == 0 {
		return s.Store.CreateTrain(ctx, t)
	}
	return s.Store.UpdateTrain(ctx, t, fence)
}

// OnCallOf returns who is on call for the train ref names, and false when nobody is.
func (s *Service) OnCallOf(ctx context.Context, ref string) (string, bool, error) {
	slot, err := s.TrainRef(ctx, ref)
	if err != nil {
		return "", false, err
	}
	t, err := s.trainFor(ctx, slot)
	if err != nil {
		return "", false, err
	}
	return t.OnCall, t.OnCall != "", nil
}
