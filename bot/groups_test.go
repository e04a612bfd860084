package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

const groupsMethod = "usergroups.users.list"

// groupsEnv is Groups on slackfake through slack-go, on a clock moved by hand.
type groupsEnv struct {
	t     *testing.T
	ctx   context.Context
	fake  *slackfake.Server
	clock *trainstest.Clock
	logs  *syncbuf.Buffer
	g     *Groups
}

func newGroupsEnv(t *testing.T, cfg GroupsConfig) *groupsEnv {
	t.Helper()
	e := &groupsEnv{t: t, ctx: testContext(t), fake: slackfake.NewForTest(t, workspace()), clock: trainstest.NewClock(slot), logs: &syncbuf.Buffer{}}
	cfg.Clock = e.clock
	cfg.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	e.g = NewGroups(newAPI(e.fake), cfg)
	return e
}

// is checks IsMember(group, user) says want without error.
func (e *groupsEnv) is(group, user string, want bool) {
	e.t.Helper()
	got, err := e.g.IsMember(e.ctx, group, user)
	if err != nil {
		e.t.Fatalf("IsMember(%s, %s) at %s: %v", group, user, e.clock.Now().Sub(slot), err)
	}
	if got != want {
		e.t.Errorf("IsMember(%s, %s) at %s = %t, want %t", group, user, e.clock.Now().Sub(slot), got, want)
	}
}

// calls checks how many usergroups.users.list requests Slack has seen.
func (e *groupsEnv) calls(want int) {
	e.t.Helper()
	if n := e.fake.Calls(groupsMethod); n != want {
		e.t.Errorf("at %s: %d usergroups.users.list calls, want %d", e.clock.Now().Sub(slot), n, want)
	}
}

// warnings counts the log lines about stale members served.
func (e *groupsEnv) warnings() int {
	return strings.Count(e.logs.String(), "could not read a user group; its members read before serve")
}

func TestGroupsFreshThenRefreshed(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{})
	e.is("S01", "U01", true)
	e.is("S01", "W02", true)
	e.is("S01", "U03", false)
	e.calls(1)
	members, err := e.g.Members(e.ctx, "S01")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"U01", "W02"}, members); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}
	members[0] = "changed" // the caller owns the slice

	e.fake.SetUserGroup("S01", "U01", "U03")
	e.clock.Advance(3*time.Minute + 59*time.Second)
	e.is("S01", "W02", true) // fresh, not yet due for a refresh: not asked again
	e.calls(1)
	e.clock.Advance(time.Minute + time.Second)
	e.is("S01", "W02", false) // past the TTL: asked again
	e.is("S01", "U03", true)
	e.calls(2)
	if members, _ := e.g.Members(e.ctx, "S01"); !cmp.Equal(members, []string{"U01", "U03"}) {
		t.Errorf("Members after refresh = %v", members)
	}
}

func TestGroupsFailClosed(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{}) // TTL 5m, MaxStale 1h
	e.is("S01", "U01", true)             // the last good read, at 0

	// Slack fails, and U01 leaves the group meanwhile.
	e.fake.FailNext(groupsMethod, -1, slackfake.APIError("fatal_error"))
	e.fake.SetUserGroup("S01", "W02")
	e.clock.Advance(6 * time.Minute)
	e.is("S01", "U01", true) // stale, within the hour
	e.calls(2)
	if n := e.warnings(); n != 1 {
		t.Errorf("%d warnings after one failed refresh, want 1:\n%s", n, e.logs)
	}
	e.clock.Set(slot.Add(59 * time.Minute))
	e.is("S01", "U01", true) // still within the hour
	if members, err := e.g.Members(e.ctx, "S01"); err != nil || !cmp.Equal(members, []string{"U01", "W02"}) {
		t.Errorf("Members at 59m = %v, %v; want the cached U01 W02", members, err)
	}
	e.calls(4)

	// Past an hour after the last good read: refused, with the reason.
	e.clock.Set(slot.Add(61 * time.Minute))
	ok, err := e.g.IsMember(e.ctx, "S01", "U01")
	if ok || !errors.Is(err, trains.ErrRoleUnknown) {
		t.Fatalf("IsMember at 61m = %t, %v; want an error wrapping trains.ErrRoleUnknown", ok, err)
	}
	for _, want := range []string{"user group S01 cannot be read since 2026-12-09 14:06 UTC", "read at 2026-12-09 14:00 UTC", "more than 1h old", "fatal_error"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := e.g.IsMember(e.ctx, "S01", "W02"); !errors.Is(err, trains.ErrRoleUnknown) {
		t.Errorf("IsMember(W02) at 61m: %v, want trains.ErrRoleUnknown", err)
	}
	if m, err := e.g.Members(e.ctx, "S01"); m != nil || !errors.Is(err, trains.ErrRoleUnknown) {
		t.Errorf("Members at 61m = %v, %v; want trains.ErrRoleUnknown", m, err)
	}

	// Slack answers again: fresh members, U01 is out.
	e.fake.ClearFaults(groupsMethod)
	calls := e.fake.Calls(groupsMethod)
	e.is("S01", "U01", false)
	e.is("S01", "W02", true)
	e.calls(calls + 1)
	e.clock.Advance(2 * time.Minute)
	e.is("S01", "W02", true) // fresh again
	e.calls(calls + 1)
}

func TestGroupsNeverReadFailsAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault slackfake.Fault
		want  string
	}{
		{"api error", slackfake.APIError("no_such_subteam"), "Slack says no_such_subteam"},
		{"http 500", slackfake.HTTPStatus(500), "Slack answered HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newGroupsEnv(t, GroupsConfig{})
			e.fake.FailNext(groupsMethod, 1, tc.fault)
			_, err := e.g.IsMember(e.ctx, "S09", "U01")
			if !errors.Is(err, trains.ErrRoleUnknown) || !strings.Contains(err.Error(), "user group S09 cannot be read: "+tc.want) {
				t.Errorf("IsMember(S09) error = %v, want trains.ErrRoleUnknown naming S09 and %q", err, tc.want)
			}
		})
	}
}

// TestGroupsCoalesce: callers asking for an expired group meanwhile share
// one request.
func TestGroupsCoalesce(t *testing.T) {
	t.Parallel()
	const callers = 50
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing=%t", failing), func(t *testing.T) {
			t.Parallel()
			e := newGroupsEnv(t, GroupsConfig{})
			e.is("S01", "U01", true)
			e.clock.Advance(10 * time.Minute)

			release := e.fake.Hold(groupsMethod)
			defer release()
			start := make(chan struct{})
			var ready, done sync.WaitGroup
			results := make(chan error, callers)
			for range callers {
				ready.Add(1)
				done.Add(1)
				go func() {
					defer done.Done()
					ready.Done()
					<-start
					ok, err := e.g.IsMember(e.ctx, "S01", "U01")
					if err == nil && !ok {
						err = errors.New("not a member")
					}
					results <- err
				}()
			}
			ready.Wait()
			close(start)
			if err := e.fake.WaitHeld(e.ctx, groupsMethod, 1); err != nil {
				t.Fatal(err)
			}
			if failing {
				e.fake.FailNext(groupsMethod, -1, slackfake.HTTPStatus(500))
			}
			release()
			done.Wait()
			close(results)
			for err := range results {
				if err != nil {
					t.Errorf("caller: %v", err)
				}
			}
			attempts := e.fake.Calls(groupsMethod) - 1
			if !failing && attempts != 1 {
				// A caller that arrives once the read is done finds it fresh.
				t.Errorf("%d concurrent callers made %d requests, want 1", callers, attempts)
			}
			if failing {
				// A caller that arrives once the failed read is done starts
				// another; each read warns once, not each caller.
				if w := e.warnings(); w != attempts || attempts >= callers {
					t.Errorf("%d callers: %d requests, %d warnings; want one warning per request, far fewer than callers", callers, attempts, w)
				}
			}
		})
	}
}

// TestGroupsCallerGivesUp: a caller's context ending stops its wait, not
// the shared read.
func TestGroupsCallerGivesUp(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{})
	release := e.fake.Hold(groupsMethod)
	defer release()

	ctx, cancel := context.WithCancel(e.ctx)
	gaveUp := make(chan error, 1)
	go func() {
		_, err := e.g.IsMember(ctx, "S01", "U01")
		gaveUp <- err
	}()
	if err := e.fake.WaitHeld(e.ctx, groupsMethod, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v, want context.Canceled", err)
	}

	// The read goes on and serves the next caller.
	next := make(chan error, 1)
	go func() {
		ok, err := e.g.IsMember(e.ctx, "S01", "U01")
		if err == nil && !ok {
			err = errors.New("U01 is not a member")
		}
		next <- err
	}()
	if e.fake.Held(groupsMethod) != 1 {
		t.Errorf("%d calls held after the caller gave up, want the 1 read", e.fake.Held(groupsMethod))
	}
	release()
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	e.is("S01", "W02", true)
	e.calls(1)
}

// TestGroupsReadTimeout: the shared read has its own bound.
func TestGroupsReadTimeout(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{ReadTimeout: 50 * time.Millisecond})
	release := e.fake.Hold(groupsMethod) // Slack never answers
	defer release()
	_, err := e.g.IsMember(e.ctx, "S01", "U01") // e.ctx has 20 s
	if !errors.Is(err, trains.ErrRoleUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("IsMember with Slack silent: %v, want trains.ErrRoleUnknown and context.DeadlineExceeded", err)
	}
}

// BenchmarkGroupsWarmCheck is a membership check in a 25,000-member group
// on a warm cache: no allocation.
func BenchmarkGroupsWarmCheck(b *testing.B) {
	members := make([]string, 25_000)
	for i := range members {
		members[i] = fmt.Sprintf("U%08d", i)
	}
	fake := slackfake.NewForTest(b, slackfake.Options{UserGroups: map[string][]string{"S01": members}})
	g := NewGroups(newAPI(fake), GroupsConfig{Clock: trainstest.NewClock(slot)})
	ctx := b.Context()
	user := members[12_345]
	if ok, err := g.IsMember(ctx, "S01", user); err != nil || !ok {
		b.Fatalf("IsMember = %t, %v", ok, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := g.IsMember(ctx, "S01", user); !ok {
			b.Fatal("not a member")
		}
	}
}

// TestGroupsRefreshAhead: a group looked up after 80% of its TTL is read
// again in the background; the lookup does not wait for it.
func TestGroupsRefreshAhead(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{}) // TTL 5m: refreshed from 4m
	e.is("S01", "U01", true)
	e.clock.Advance(3*time.Minute + 59*time.Second)
	e.is("S01", "U01", true)
	e.calls(1) // not yet due

	e.fake.SetUserGroup("S01", "W02")
	release := e.fake.Hold(groupsMethod)
	defer release()
	e.clock.Advance(time.Second)
	e.is("S01", "U01", true) // served at once while Slack is held
	if err := e.fake.WaitHeld(e.ctx, groupsMethod, 1); err != nil {
		t.Fatalf("no background read at 80%% of the TTL: %v", err)
	}
	e.is("S01", "U01", true) // the refresh in flight is not started again
	e.calls(2)
	release()

	// Past the first read's TTL the caller gets the refreshed members,
	// waiting for the read in flight if it has not landed yet.
	e.clock.Advance(time.Minute + time.Second)
	e.is("S01", "U01", false)
	e.is("S01", "W02", true)
	e.calls(2)
}

// TestGroupsQueuedReadHasItsOwnTimeout: a read waiting for a free slot
// is not timed out meanwhile; its ReadTimeout starts when it asks Slack.
func TestGroupsQueuedReadHasItsOwnTimeout(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{ReadTimeout: 100 * time.Millisecond, ConcurrentReads: 1})
	e.fake.SetUserGroup("S02", "U05")
	d := NewDirectory([]string{"S01", "S02"}, nil, nil, e.g)
	release := e.fake.Hold(groupsMethod) // Slack never answers
	defer release()
	if _, err := d.Has(e.ctx, "U404", trains.Releaser); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Has with Slack silent: %v, want context.DeadlineExceeded", err)
	}
	// One read at a time: each asked Slack once it had the slot, and each
	// timed out there, not while queued.
	e.calls(2)
}
