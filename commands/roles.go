package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// Directory says who holds which role (SPEC §6), from the role settings:
// Slack user ids (U…, W…) and user-group ids (S…) expanded through Groups.
type Directory struct {
	lists  map[trains.Role][]string
	groups Groups
}

var _ trains.Roles = (*Directory)(nil)

// NewDirectory returns a directory of the given role lists. groups may be
// nil where there is no Slack (the console): group ids then match nobody.
func NewDirectory(releasers, chainOps, validators []string, groups Groups) *Directory {
	return &Directory{
		lists:  map[trains.Role][]string{trains.Releaser: releasers, trains.ChainOps: chainOps, trains.Validator: validators},
		groups: groups,
	}
}

// Has reports whether user holds role, directly or through a user group.
func (d *Directory) Has(ctx context.Context, user string, role trains.Role) (bool, error) {
	var errs []string
	for _, id := range d.lists[role] {
		if id == user {
			return true, nil
		}
	}
	for _, id := range d.lists[role] {
		if !strings.HasPrefix(id, "S") || d.groups == nil {
			continue
		}
		members, err := d.groups.GroupMembers(ctx, id)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if slices.Contains(members, user) {
			return true, nil
		}
	}
	if len(errs) > 0 {
		return false, fmt.Errorf("could not check the %s user groups: %s", role, strings.Join(errs, "; "))
	}
	return false, nil
}

// Members lists everyone holding role, with groups expanded.
func (d *Directory) Members(ctx context.Context, role trains.Role) ([]string, error) {
	var out []string
	for _, id := range d.lists[role] {
		if !strings.HasPrefix(id, "S") {
			out = append(out, id)
			continue
		}
		if d.groups == nil {
			continue
		}
		members, err := d.groups.GroupMembers(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("could not list the %s user group %s: %w", role, id, err)
		}
		out = append(out, members...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// forbidden is a refusal for want of a role.
type forbidden struct{ need string }

func (f *forbidden) Error() string {
	return fmt.Sprintf("only %s may do that; ask one of them, or a releaser to add you to the role", f.need)
}

// anyOf checks that user holds one of roles; it returns a *forbidden naming them.
func anyOf(ctx context.Context, r trains.Roles, user string, roles ...trains.Role) error {
	var names []string
	for _, role := range roles {
		ok, err := r.Has(ctx, user, role)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		names = append(names, plural(role))
	}
	return &forbidden{need: strings.Join(names, " or ")}
}

// plural names the holders of a role.
func plural(r trains.Role) string {
	if r == trains.ChainOps {
		return "chain ops"
	}
	return string(r) + "s"
}
