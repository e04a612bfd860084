package bot

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

func TestGroupsCacheAndExpiry(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace())
	clock := trainstest.NewClock(slot)
	var logs bytes.Buffer
	g := NewGroups(newAPI(fake), GroupsConfig{TTL: 5 * time.Minute, Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const method = "usergroups.users.list"

	members := func(want ...string) {
		t.Helper()
		got, err := g.GroupMembers(ctx, "S1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
	}
	members("U1", "W2")
	fake.SetUserGroup("S1", "U1", "U3")
	clock.Advance(4 * time.Minute)
	members("U1", "W2") // cached
	if n := fake.Calls(method); n != 1 {
		t.Errorf("%d calls within the TTL, want 1", n)
	}
	clock.Advance(2 * time.Minute)
	members("U1", "U3") // expired: asked again
	if n := fake.Calls(method); n != 2 {
		t.Errorf("%d calls after the TTL, want 2", n)
	}

	// Slack failing: the stale members serve, with a warning.
	clock.Advance(10 * time.Minute)
	fake.FailNext(method, 1, slackfake.HTTPStatus(503))
	members("U1", "U3")
	if !strings.Contains(logs.String(), "group=S1") {
		t.Errorf("no warning about the stale group in the log: %s", logs.String())
	}

	// No cached members: an error naming the group.
	fake.FailNext(method, 1, slackfake.APIError("no_such_subteam"))
	_, err := g.GroupMembers(ctx, "S9")
	if err == nil || !strings.Contains(err.Error(), "expand user group S9") || !strings.Contains(err.Error(), "no_such_subteam") {
		t.Errorf("GroupMembers(S9) error = %v", err)
	}
}
