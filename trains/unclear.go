package trains

// UnclearError is a change the store could not confirm (it wraps
// ErrUnclear): it may or may not have been made. Text tells the person who
// asked what may have happened and how to find out; like a UserError's, it
// is data, safe to show. It never says that nothing was changed.
type UnclearError struct {
	Text Text
	// Err is the store's error, wrapping ErrUnclear.
	Err error
}

// Error is the text for the user, then the store's error, as plain text.
func (e *UnclearError) Error() string { return e.Text.Plain() + " (" + e.Err.Error() + ")" }

// Unwrap returns the store's error, so that errors.Is(err, ErrUnclear) holds.
func (e *UnclearError) Unwrap() error { return e.Err }
