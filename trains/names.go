package trains

import (
	"context"
	"errors"
)

// Names finds the names people are known by, for what is read outside
// Slack: the calendar page, its iCalendar feed and the calendar file. In
// Slack, messages mention people (<@U…>) and Slack shows their names
// itself, so nothing there asks Names.
type Names interface {
	// Name returns the display name of the Slack user id user ("Rita
	// Releaser"). It returns ErrNoSuchUser when Slack has no such user,
	// and another error when the name cannot be read now (Slack down,
	// the token refused, the context over). Callers show the id then.
	Name(ctx context.Context, user string) (string, error)
}

// ErrNoSuchUser is returned by Names for an id the workspace does not have.
var ErrNoSuchUser = errors.New("no such Slack user")

// NameFunc returns what the calendar's renderers take to show a person:
// their name through names, or their id when names is nil or cannot say.
// It never fails, so a page never fails for want of a name.
func NameFunc(ctx context.Context, names Names) func(user string) string {
	if names == nil {
		return func(u string) string { return u }
	}
	return func(u string) string {
		if u == "" {
			return u
		}
		n, err := names.Name(ctx, u)
		if err != nil || n == "" {
			return u
		}
		return n
	}
}
