package bot

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// team is a role of groups of members on slackfake: groups S00…, each of
// members users U<group>X<member>, none in two groups.
type team struct {
	groups, members int
	ids             []string
	fake            *slackfake.Server
	clock           *trainstest.Clock
	g               *Groups
	d               *Directory
}

func newTeam(tb testing.TB, groups, members int) *team {
	tb.Helper()
	opts := slackfake.Options{UserGroups: map[string][]string{}}
	var ids []string
	for i := range groups {
		id := fmt.Sprintf("S%02d", i)
		ids = append(ids, id)
		for j := range members {
			opts.UserGroups[id] = append(opts.UserGroups[id], teamUser(i, j))
		}
	}
	tm := &team{groups: groups, members: members, ids: ids, fake: slackfake.NewForTest(tb, opts), clock: trainstest.NewClock(slot)}
	tm.g = NewGroups(newAPI(tm.fake), GroupsConfig{Clock: tm.clock})
	tm.d = NewDirectory(nil, nil, ids, tm.g)
	return tm
}

func teamUser(group, member int) string { return fmt.Sprintf("U%dX%d", group, member) }

// last is the last member of the last group: a check finds it last.
func (tm *team) last() string { return teamUser(tm.groups-1, tm.members-1) }

func (tm *team) has(tb testing.TB, ctx context.Context, user string, want bool) {
	tb.Helper()
	ok, err := tm.d.Has(ctx, user, trains.Validator)
	if err != nil || ok != want {
		tb.Fatalf("Has(%s, validator) = %t, %v; want %t", user, ok, err, want)
	}
}

// TestDirectoryReadsGroupsConcurrently: a cold check reads the role's
// groups 8 at a time, all 8 in flight together, one request per group
// however many checks wait.
func TestDirectoryReadsGroupsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tm := newTeam(t, 50, 5)
	release := tm.fake.Hold(groupsMethod)
	defer release()

	const checks = 20
	var wg sync.WaitGroup
	errs := make(chan error, checks)
	for i := range checks {
		wg.Go(func() {
			user := tm.last()
			if i%2 == 1 {
				user = "U404"
			}
			ok, err := tm.d.Has(ctx, user, trains.Validator)
			if err == nil && ok != (user != "U404") {
				err = fmt.Errorf("Has(%s) = %t", user, ok)
			}
			errs <- err
		})
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := tm.fake.WaitHeld(waitCtx, groupsMethod, DefaultGroupsConcurrentReads); err != nil {
		t.Fatalf("%d reads never in flight together (%d held, %d calls): %v", DefaultGroupsConcurrentReads, tm.fake.Held(groupsMethod), tm.fake.Calls(groupsMethod), err)
	}
	if n, held := tm.fake.Calls(groupsMethod), tm.fake.Held(groupsMethod); n != DefaultGroupsConcurrentReads || held != n {
		t.Errorf("%d calls, %d held while Slack is held; want %d: the bound", n, held, DefaultGroupsConcurrentReads)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := tm.fake.Calls(groupsMethod); n != tm.groups {
		t.Errorf("%d checks of %d cold groups made %d requests, want %d", checks, tm.groups, n, tm.groups)
	}
	tm.has(t, ctx, "U404", false)
	if n := tm.fake.Calls(groupsMethod); n != tm.groups {
		t.Errorf("a warm check made %d requests in all, want %d", n, tm.groups)
	}
}

// TestDirectoryWarmAllocs: on a warm cache a check allocates nothing and
// the expanded list one slice, at 1 group of 5 as at 50 groups of 500.
// AllocsPerRun does not run in parallel tests.
func TestDirectoryWarmAllocs(t *testing.T) {
	for _, size := range [][2]int{{1, 5}, {50, 500}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			ctx := testContext(t)
			tm := newTeam(t, size[0], size[1])
			tm.has(t, ctx, tm.last(), true)
			if _, err := tm.d.Members(ctx, trains.Validator); err != nil {
				t.Fatal(err)
			}
			for _, user := range []string{tm.last(), teamUser(0, 0), "U404"} {
				if a := testing.AllocsPerRun(100, func() { _, _ = tm.d.Has(ctx, user, trains.Validator) }); a != 0 {
					t.Errorf("warm Has(%s) allocates %v times, want 0", user, a)
				}
			}
			if a := testing.AllocsPerRun(20, func() { _, _ = tm.d.Members(ctx, trains.Validator) }); a > 1 {
				t.Errorf("warm Members allocates %v times, want 1 (the caller's copy)", a)
			}
			members, _ := tm.d.Members(ctx, trains.Validator)
			if len(members) != tm.groups*tm.members {
				t.Errorf("Members lists %d, want %d", len(members), tm.groups*tm.members)
			}
			if n := tm.fake.Calls(groupsMethod); n != tm.groups {
				t.Errorf("%d requests, want %d", n, tm.groups)
			}
		})
	}
}

// TestDirectoryFollowsGroups: the cached index follows the groups: a
// change shows past the TTL, the refresh is in the background, and the
// role fails closed past MaxStale like a group does.
func TestDirectoryFollowsGroups(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{})
	d := NewDirectory(nil, nil, []string{"U09", "S01"}, e.g)
	has := func(user string, want bool) {
		t.Helper()
		if ok, err := d.Has(e.ctx, user, trains.Validator); ok != want || err != nil {
			t.Errorf("at %s: Has(%s) = %t, %v; want %t", e.clock.Now().Sub(slot), user, ok, err, want)
		}
	}
	members := func(want ...string) {
		t.Helper()
		if got, err := d.Members(e.ctx, trains.Validator); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("at %s: Members = %v, %v; want %v", e.clock.Now().Sub(slot), got, err, want)
		}
	}
	has("U01", true)
	members("U01", "U09", "W02")
	e.fake.SetUserGroup("S01", "W02", "U03")

	e.clock.Advance(4 * time.Minute) // due: refreshed in the background
	release := e.fake.Hold(groupsMethod)
	has("U01", true)
	has("U03", false)
	if err := e.fake.WaitHeld(e.ctx, groupsMethod, 1); err != nil {
		t.Fatal(err)
	}
	release()
	e.clock.Advance(time.Minute) // past the first read's TTL
	has("U01", false)
	has("U03", true)
	members("U03", "U09", "W02")
	e.calls(2)

	// Slack fails from now: the index serves no longer than the groups.
	e.fake.FailNext(groupsMethod, -1, slackfake.APIError("fatal_error"))
	e.clock.Advance(50 * time.Minute)
	has("U03", true) // stale, within the hour
	e.clock.Advance(11 * time.Minute)
	if ok, err := d.Has(e.ctx, "U03", trains.Validator); ok || err == nil {
		t.Errorf("Has(U03) past MaxStale = %t, %v; want refused", ok, err)
	}
	if m, err := d.Members(e.ctx, trains.Validator); m != nil || err == nil {
		t.Errorf("Members past MaxStale = %v, %v; want refused", m, err)
	}
	has("U09", true) // listed by id
}

// BenchmarkRoleCheck is a validator check (the last member of the last
// group, and a non-member) at 1 group of 5 and 50 groups of 500: warm, and
// cold (a fresh Groups each time: every group read from slackfake), on
// loopback and with each Slack request taking 20 ms more, as a round trip
// to Slack does. The cold checks share one HTTP client that keeps 16 idle
// connections.
func BenchmarkRoleCheck(b *testing.B) {
	for _, size := range [][2]int{{1, 5}, {50, 500}} {
		name := fmt.Sprintf("groups=%d,members=%d", size[0], size[1])
		b.Run("warm/"+name, func(b *testing.B) {
			tm := newTeam(b, size[0], size[1])
			ctx := b.Context()
			tm.has(b, ctx, tm.last(), true)
			users := []string{tm.last(), "U404"}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_, _ = tm.d.Has(ctx, users[i&1], trains.Validator)
				i++
			}
		})
		for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
			b.Run(fmt.Sprintf("cold/rtt=%s/%s", rtt, name), func(b *testing.B) {
				tm := newTeam(b, size[0], size[1])
				ctx := b.Context()
				transport := &http.Transport{MaxIdleConnsPerHost: 16}
				b.Cleanup(transport.CloseIdleConnections)
				client := &http.Client{Transport: slowTrip{rtt: rtt, next: transport}}
				before := tm.fake.Calls(groupsMethod)
				b.ReportAllocs()
				for b.Loop() {
					api := slack.New(tm.fake.BotToken(), slack.OptionAPIURL(tm.fake.APIURL()), slack.OptionHTTPClient(client))
					tm.g = NewGroups(api, GroupsConfig{Clock: tm.clock})
					tm.d = NewDirectory(nil, nil, tm.ids, tm.g)
					tm.has(b, ctx, "U404", false)
				}
				b.ReportMetric(float64(tm.fake.Calls(groupsMethod)-before)/float64(b.N), "calls/op")
			})
		}
	}
}

// slowTrip delays each request by rtt: a round trip to Slack.
type slowTrip struct {
	rtt  time.Duration
	next http.RoundTripper
}

func (s slowTrip) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.rtt > 0 {
		t := time.NewTimer(s.rtt)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, r.Context().Err()
		}
	}
	return s.next.RoundTrip(r)
}

// BenchmarkRoleMembers is the validators listed (for reminders and the
// sign-off prompt) on a warm cache: one copy of the kept list.
func BenchmarkRoleMembers(b *testing.B) {
	for _, size := range [][2]int{{1, 5}, {50, 500}} {
		b.Run(fmt.Sprintf("groups=%d,members=%d", size[0], size[1]), func(b *testing.B) {
			tm := newTeam(b, size[0], size[1])
			ctx := b.Context()
			if _, err := tm.d.Members(ctx, trains.Validator); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = tm.d.Members(ctx, trains.Validator)
			}
		})
	}
}
