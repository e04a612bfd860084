package bot

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// namesWorkspace is a workspace of people with and without display names.
func namesWorkspace() slackfake.Options {
	return slackfake.Options{Users: []slackfake.User{
		{ID: "U0RITA", Name: "rita", RealName: "Rita Maria Releaser", DisplayName: "Rita Releaser"},
		{ID: "U0SAM", Name: "sam", RealName: "Sam Validator"},
		{ID: "U0WINONA", Name: "winona", RealName: "Winona Windows", DisplayName: "Winona"},
		{ID: "U0OTTO", Name: "otto", RealName: "Otto Oncall", DisplayName: "Otto"},
	}}
}

func TestNamesReadsAndCaches(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, namesWorkspace())
	clock := trainstest.NewClock(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC))
	names := NewNames(newAPI(fake), NamesConfig{TTL: time.Hour, Clock: clock, Logger: testLogger(t)})

	for user, want := range map[string]string{"U0RITA": "Rita Releaser", "U0SAM": "Sam Validator"} {
		got, err := names.Name(ctx, user)
		if err != nil || got != want {
			t.Errorf("Name(%s) = %q, %v; want %q (display name, else real name)", user, got, err, want)
		}
	}
	if _, err := names.Name(ctx, "U0GONE"); !errors.Is(err, trains.ErrNoSuchUser) {
		t.Errorf("unknown user: %v, want ErrNoSuchUser", err)
	}
	calls := fake.Calls("users.info")
	for _, u := range []string{"U0RITA", "U0SAM", "U0GONE"} {
		_, _ = names.Name(ctx, u)
	}
	if n := fake.Calls("users.info") - calls; n != 0 {
		t.Errorf("%d users.info calls within the TTL, want 0 (cached, the unknown user too)", n)
	}
	clock.Advance(time.Hour)
	if got, _ := names.Name(ctx, "U0RITA"); got != "Rita Releaser" || fake.Calls("users.info")-calls != 1 {
		t.Errorf("after the TTL: %q with %d calls, want a new read", got, fake.Calls("users.info")-calls)
	}
}

func TestNamesFallBackToTheID(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, namesWorkspace())
	clock := trainstest.NewClock(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC))
	names := NewNames(newAPI(fake), NamesConfig{TTL: time.Hour, FailTTL: time.Minute, Clock: clock, Logger: testLogger(t)})
	name := trains.NameFunc(ctx, names)

	fake.FailNext("users.info", 1, slackfake.Fault{Error: "invalid_auth"})
	if got := name("U0SAM"); got != "U0SAM" {
		t.Errorf("Slack refusing the token: %q, want the id", got)
	}
	if got := name("U0GONE"); got != "U0GONE" {
		t.Errorf("unknown user: %q, want the id", got)
	}
	if got := name(""); got != "" {
		t.Errorf("nobody: %q, want empty", got)
	}
	calls := fake.Calls("users.info")
	if got := name("U0SAM"); got != "U0SAM" || fake.Calls("users.info") != calls {
		t.Errorf("within FailTTL: %q after %d calls; the failure should be remembered", got, fake.Calls("users.info")-calls)
	}
	clock.Advance(time.Minute)
	if got := name("U0SAM"); got != "Sam Validator" {
		t.Errorf("after FailTTL: %q, want the name read again", got)
	}

	// A name read before serves while Slack cannot be read.
	clock.Advance(time.Hour)
	fake.FailNext("users.info", 1, slackfake.Fault{Status: 500})
	if got := name("U0SAM"); got != "Sam Validator" {
		t.Errorf("Slack failing after a good read: %q, want the name read before", got)
	}
	if got := trains.NameFunc(ctx, nil)("U0SAM"); got != "U0SAM" {
		t.Errorf("no Names: %q, want the id", got)
	}
}

func TestNamesCacheIsBounded(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, namesWorkspace())
	clock := trainstest.NewClock(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC))
	names := NewNames(newAPI(fake), NamesConfig{TTL: time.Hour, Max: 2, Clock: clock, Logger: testLogger(t)})
	for _, u := range []string{"U0RITA", "U0SAM", "U0WINONA"} { // U0RITA expires first: it gives way
		if _, err := names.Name(ctx, u); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	calls := fake.Calls("users.info")
	_, _ = names.Name(ctx, "U0WINONA")
	_, _ = names.Name(ctx, "U0SAM")
	if n := fake.Calls("users.info") - calls; n != 0 {
		t.Errorf("the two newest: %d calls, want 0", n)
	}
	_, _ = names.Name(ctx, "U0RITA")
	if n := fake.Calls("users.info") - calls; n != 1 {
		t.Errorf("the oldest after the cache was full: %d calls, want 1 (it was dropped)", n)
	}
}

// A read the caller gave up on is not remembered as Slack's failure.
func TestNamesCallerGaveUp(t *testing.T) {
	t.Parallel()
	fake := slackfake.NewForTest(t, namesWorkspace())
	names := NewNames(newAPI(fake), NamesConfig{Clock: trainstest.NewClock(calendarNow), Logger: testLogger(t)})
	gone, cancel := context.WithCancel(testContext(t))
	cancel()
	if got := trains.NameFunc(gone, names)("U0RITA"); got != "U0RITA" {
		t.Errorf("a cancelled caller: %q, want the id", got)
	}
	if got := trains.NameFunc(testContext(t), names)("U0RITA"); got != "Rita Releaser" {
		t.Errorf("the next caller: %q, want the name (the cancelled read is not remembered)", got)
	}
}
