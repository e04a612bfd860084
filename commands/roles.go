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
