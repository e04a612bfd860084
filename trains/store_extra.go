package trains

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CalendarState is the stored state a calendar is built from: the quiet
// windows, the rotation, the trains in a range and the started line.
type CalendarState struct {
	// Windows are the quiet windows that end after the since asked for, by start.
	Windows []Window
	// Rotation is the on-call rotation; HasRotation is false when none was set.
	Rotation    Rotation
	HasRotation bool
	// Trains are the trains the query selected, oldest first.
	Trains []Train
	// Line is the started line, the zero Line when none was.
	Line Line
}

// CalendarReader is an optional extension of Store: it reads everything a
// calendar needs at once (the Redis store in at most two round trips, where
// the four Store calls take six). Use ReadCalendarState, which falls back to
// the Store methods for stores without it.
type CalendarReader interface {
	// CalendarState returns the windows that end after windowsSince, the
	// rotation, the trains q selects and the started line. Errors as Store's.
	CalendarState(ctx context.Context, windowsSince time.Time, q TrainQuery) (CalendarState, error)
}

// ReadCalendarState reads a calendar's state from s: through CalendarReader
// when s has it, else with Windows, Rotation, ListTrains and StartedLine.
func ReadCalendarState(ctx context.Context, s Store, windowsSince time.Time, q TrainQuery) (CalendarState, error) {
	if r, ok := s.(CalendarReader); ok {
		return r.CalendarState(ctx, windowsSince, q)
	}
	var st CalendarState
	var err error
	if st.Windows, err = s.Windows(ctx, windowsSince); err != nil {
		return CalendarState{}, fmt.Errorf("read quiet windows: %w", err)
	}
	switch st.Rotation, err = s.Rotation(ctx); {
	case err == nil:
		st.HasRotation = true
	case !errors.Is(err, ErrNotFound):
		return CalendarState{}, fmt.Errorf("read rotation: %w", err)
	}
	if st.Trains, err = s.ListTrains(ctx, q); err != nil {
		return CalendarState{}, fmt.Errorf("list trains: %w", err)
	}
	if st.Line, err = s.StartedLine(ctx); err != nil {
		return CalendarState{}, fmt.Errorf("read started line: %w", err)
	}
	return st, nil
}
