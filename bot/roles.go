package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// Directory says who holds which role (SPEC §6), from the role settings:
// Slack user ids (U…, W…) and user-group ids (S…) expanded through Groups.
//
// For each role it keeps an index: the union of the members of the role's
// groups, built from the member sets Groups holds, and the role's holders
// expanded and sorted. While every one of those sets is younger than 80%
// of the groups' TTL a check is one map lookup, whatever the number of
// groups and members, and allocates nothing; past that, the check asks
// Groups (which reads the groups due in the background, or, once they
// have expired, at once and concurrently) and rebuilds the index when a
// set has changed.
type Directory struct {
	roles  map[trains.Role]*roleEntry
	groups *Groups
}

// roleEntry is what a Directory knows of one role.
type roleEntry struct {
	role   trains.Role
	ids    map[string]struct{} // users listed by id
	listed []string            // users listed by id, sorted
	groups []string            // user groups listed, in order

	index atomic.Pointer[roleIndex] // nil until the groups were read
	build sync.Mutex                // one index built at a time
}

// roleIndex is a role's groups expanded, as of the sets it was built from.
// It is never changed once stored (sorted is filled once).
type roleIndex struct {
	sets []*memberSet // sets[i] is the members of roleEntry.groups[i]
	// members is the union of the sets.
	members map[string]struct{}
	// until is when the oldest set is due for a refresh; checks before it
	// only look members up.
	until time.Time

	sortOnce sync.Once
	sorted   []string // the listed users and members, sorted, made once
}

var _ trains.Roles = (*Directory)(nil)

// NewDirectory returns a directory of the given role lists. groups may be
// nil where there is no Slack (the console): group ids then match nobody.
func NewDirectory(releasers, chainOps, validators []string, groups *Groups) *Directory {
	d := &Directory{roles: map[trains.Role]*roleEntry{}, groups: groups}
	for role, list := range map[trains.Role][]string{trains.Releaser: releasers, trains.ChainOps: chainOps, trains.Validator: validators} {
		e := &roleEntry{role: role, ids: map[string]struct{}{}}
		for _, id := range list {
			switch {
			case !isGroup(id):
				if _, dup := e.ids[id]; !dup {
					e.ids[id] = struct{}{}
					e.listed = append(e.listed, id)
				}
			case groups != nil && !slices.Contains(e.groups, id):
				e.groups = append(e.groups, id)
			}
		}
		slices.Sort(e.listed)
		d.roles[role] = e
	}
	return d
}

// Has reports whether user holds role: listed by id (no group is read
// then), or a member of a listed group. A group saying yes is enough even
// when another cannot be read; when none says yes and one cannot be read,
// the error wraps trains.ErrRoleUnknown and names the group: the role is
// refused, never silently denied. On a warm cache it allocates nothing.
func (d *Directory) Has(ctx context.Context, user string, role trains.Role) (bool, error) {
	e := d.roles[role]
	if e == nil {
		return false, nil
	}
	if _, ok := e.ids[user]; ok {
		return true, nil
	}
	if len(e.groups) == 0 {
		return false, nil
	}
	if idx := e.index.Load(); idx != nil && d.groups.clock.Now().Before(idx.until) {
		_, ok := idx.members[user]
		return ok, nil
	}
	sets, errs := d.groups.sets(ctx, e.groups, func(s *memberSet) bool { return s.has(user) })
	for _, s := range sets {
		if s != nil && s.has(user) {
			return true, nil
		}
	}
	if err := joinRoleErrors(role, errs); err != nil {
		return false, err
	}
	d.indexed(e, sets)
	return false, nil
}

// Members lists everyone holding role, with groups expanded, sorted, in a
// slice the caller owns. The expanded list is kept until a group changes.
// When a group cannot be read the error wraps trains.ErrRoleUnknown and
// names it.
func (d *Directory) Members(ctx context.Context, role trains.Role) ([]string, error) {
	e := d.roles[role]
	if e == nil {
		return nil, nil
	}
	if len(e.groups) == 0 {
		return slices.Clone(e.listed), nil
	}
	idx := e.index.Load()
	if idx == nil || !d.groups.clock.Now().Before(idx.until) {
		sets, errs := d.groups.sets(ctx, e.groups, nil)
		if err := joinRoleErrors(role, errs); err != nil {
			return nil, err
		}
		idx = d.indexed(e, sets)
	}
	idx.sortOnce.Do(func() {
		out := make([]string, 0, len(e.listed)+len(idx.members))
		out = append(out, e.listed...)
		for u := range idx.members {
			if _, dup := e.ids[u]; !dup {
				out = append(out, u)
			}
		}
		slices.Sort(out)
		idx.sorted = out
	})
	return slices.Clone(idx.sorted), nil
}

// indexed returns the index of e's groups made of sets (all read), building
// and storing it unless the stored one is of the same sets.
func (d *Directory) indexed(e *roleEntry, sets []*memberSet) *roleIndex {
	e.build.Lock()
	defer e.build.Unlock()
	if idx := e.index.Load(); idx != nil && slices.Equal(idx.sets, sets) {
		return idx
	}
	n := 0
	oldest := sets[0].read
	for _, s := range sets {
		n += len(s.users)
		if s.read.Before(oldest) {
			oldest = s.read
		}
	}
	idx := &roleIndex{sets: sets, members: make(map[string]struct{}, n), until: oldest.Add(d.groups.refreshAfter())}
	for _, s := range sets {
		for u := range s.users {
			idx.members[u] = struct{}{}
		}
	}
	e.index.Store(idx)
	return idx
}

// joinRoleErrors returns a *roleError of the groups' errors, or nil when
// there are none.
func joinRoleErrors(role trains.Role, errs []error) error {
	var list []error
	for _, err := range errs {
		if err != nil {
			list = append(list, err)
		}
	}
	if len(list) == 0 {
		return nil
	}
	return &roleError{role: role, errs: list}
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
