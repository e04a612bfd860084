package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// UserGroups expands Slack user groups (S…) for a Directory. *Groups
// implements it. Errors wrap trains.ErrRoleUnknown when a group cannot be
// read now.
type UserGroups interface {
	// IsMember reports whether user is in group.
	IsMember(ctx context.Context, group, user string) (bool, error)
	// Members returns the user ids in group, in a slice the caller owns.
	Members(ctx context.Context, group string) ([]string, error)
}

// Directory says who holds which role (SPEC §6), from the role settings:
// Slack user ids (U…, W…) and user-group ids (S…) expanded through
// UserGroups.
type Directory struct {
	lists  map[trains.Role][]string
	groups UserGroups
}

var _ UserGroups = (*Groups)(nil)

var _ trains.Roles = (*Directory)(nil)

// NewDirectory returns a directory of the given role lists. groups may be
// nil where there is no Slack (the console): group ids then match nobody.
func NewDirectory(releasers, chainOps, validators []string, groups UserGroups) *Directory {
	return &Directory{
		lists:  map[trains.Role][]string{trains.Releaser: releasers, trains.ChainOps: chainOps, trains.Validator: validators},
		groups: groups,
	}
}

// Has reports whether user holds role: listed by id (no group is read
// then), or a member of a listed group. A group saying yes is enough even
// when another cannot be read; when none says yes and one cannot be read,
// the error wraps trains.ErrRoleUnknown and names the group: the role is
// refused, never silently denied.
func (d *Directory) Has(ctx context.Context, user string, role trains.Role) (bool, error) {
	if slices.Contains(d.lists[role], user) {
		return true, nil
	}
	var errs []error
	for _, id := range d.lists[role] {
		if !isGroup(id) || d.groups == nil {
			continue
		}
		ok, err := d.groups.IsMember(ctx, id, user)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return true, nil
		}
	}
	if len(errs) > 0 {
		return false, &roleError{role: role, errs: errs}
	}
	return false, nil
}

// Members lists everyone holding role, with groups expanded, sorted. When
// a group cannot be read the error wraps trains.ErrRoleUnknown and names
// it.
func (d *Directory) Members(ctx context.Context, role trains.Role) ([]string, error) {
	var out []string
	for _, id := range d.lists[role] {
		if !isGroup(id) {
			out = append(out, id)
			continue
		}
		if d.groups == nil {
			continue
		}
		members, err := d.groups.Members(ctx, id)
		if err != nil {
			return nil, &roleError{role: role, errs: []error{err}}
		}
		out = append(out, members...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// isGroup tells a user-group id (S…) from a user id.
func isGroup(id string) bool { return strings.HasPrefix(id, "S") }

// roleError says who holds a role cannot be told now. It wraps
// trains.ErrRoleUnknown and the groups' errors.
type roleError struct {
	role trains.Role
	errs []error
}

func (e *roleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot check the %s role now: ", e.role)
	for i, err := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	b.WriteString("; try again once Slack answers for the group")
	return b.String()
}

func (e *roleError) Unwrap() []error { return append([]error{trains.ErrRoleUnknown}, e.errs...) }
