package slackfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trainbot/trainbot/internal/slackfake"
)

func TestHold(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace)
	api := newAPI(fake)
	const method = "usergroups.users.list"

	release := fake.Hold(method)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := api.GetUserGroupMembersContext(ctx, "S01")
			errs <- err
		}()
	}
	if err := fake.WaitHeld(ctx, method, 3); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(method); n != 3 {
		t.Errorf("Calls = %d while 3 are held, want 3", n)
	}
	select {
	case err := <-errs:
		t.Fatalf("a held call returned: %v", err)
	default:
	}
	// The answer is chosen on release: a fault set meanwhile applies.
	fake.FailNext(method, 1, slackfake.APIError("fatal_error"))
	release()
	release() // a second release does nothing
	failed := 0
	for range 3 {
		if err := <-errs; err != nil {
			if !isSlackError(err, "fatal_error") {
				t.Errorf("held call: %v", err)
			}
			failed++
		}
	}
	if failed != 1 || fake.Held(method) != 0 {
		t.Errorf("%d held calls failed, %d still held; want 1 and 0", failed, fake.Held(method))
	}
	// Released: new calls go through.
	if _, err := api.GetUserGroupMembersContext(ctx, "S01"); err != nil {
		t.Fatal(err)
	}

	// A client that gives up stops waiting; the hold stays for others.
	release = fake.Hold(method)
	defer release()
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		_, err := api.GetUserGroupMembersContext(cctx, "S01")
		errs <- err
	}()
	if err := fake.WaitHeld(ctx, method, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled held call: %v, want context.Canceled", err)
	}
	// Other methods are not held.
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestHoldReleasedOnClose(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.New(workspace)
	api := newAPI(fake)
	fake.Hold("usergroups.users.list")
	errs := make(chan error, 1)
	go func() {
		_, err := api.GetUserGroupMembersContext(ctx, "S01")
		errs <- err
	}()
	if err := fake.WaitHeld(ctx, "usergroups.users.list", 1); err != nil {
		t.Fatal(err)
	}
	fake.Close() // returns: closing lets held calls go
	<-errs
}
