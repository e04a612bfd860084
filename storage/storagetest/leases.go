package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func testClaim(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	claim := func(key string, want bool) {
		t.Helper()
		ok, err := h.Store.Claim(ctx, key, time.Minute)
		must(t, "claim "+key, err)
		if ok != want {
			t.Fatalf("claim %s: got %v, want %v", key, ok, want)
		}
	}
	claim("envelope:1", true)
	claim("envelope:1", false)
	claim("reminder:dev-2026-12-01:24h", true)

	must(t, "unclaim", h.Store.Unclaim(ctx, "envelope:1"))
	claim("envelope:1", true)
	must(t, "unclaim a key never claimed", h.Store.Unclaim(ctx, "envelope:404"))

	h.Advance(t, 59*time.Second)
	claim("envelope:1", false)
	h.Advance(t, time.Second)
	claim("envelope:1", true) // the ttl passed
	claim("reminder:dev-2026-12-01:24h", true)
}

// testClaimRace: 100 goroutines claim one key; exactly one gets it.
func testClaimRace(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	n := winners(t, 100, "claim", func(int) (bool, error) { return h.Store.Claim(ctx, "envelope:race", time.Minute) })
	if n != 1 {
		t.Fatalf("%d of 100 concurrent claims of one key got it, want exactly 1", n)
	}
}

func tryLease(t testing.TB, h Harness, name, holder string, ttl time.Duration) (trains.Lease, bool) {
	t.Helper()
	l, ok, err := h.Store.TryLease(ctxOf(t), name, holder, ttl)
	must(t, fmt.Sprintf("take lease %s for %s", name, holder), err)
	return l, ok
}

func testLease(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	a, ok := tryLease(t, h, "track:dev", "replica-a", 30*time.Second)
	if !ok || a.Name != "track:dev" || a.Holder != "replica-a" || a.Token <= 0 {
		t.Fatalf("first take: got %+v ok=%v, want it granted to replica-a with a positive token", a, ok)
	}
	if a.Expiry.Before(T0) {
		t.Errorf("lease expiry %s is before the clock's start %s", a.Expiry, T0)
	}

	theirs, ok := tryLease(t, h, "track:dev", "replica-b", 30*time.Second)
	if ok || theirs.Holder != "replica-a" || theirs.Token != a.Token {
		t.Fatalf("take a held lease: got %+v ok=%v, want refused, naming replica-a's lease", theirs, ok)
	}
	again, ok := tryLease(t, h, "track:dev", "replica-a", 30*time.Second)
	if ok || again.Token != a.Token {
		t.Fatalf("holder takes its own lease again: got %+v ok=%v, want refused (a holder renews instead)", again, ok)
	}
	other, ok := tryLease(t, h, "scheduler", "replica-b", 30*time.Second)
	if !ok {
		t.Fatalf("another lease name is free: got %+v refused", other)
	}

	h.Advance(t, 20*time.Second)
	renewed, err := h.Store.RenewLease(ctx, a, 30*time.Second)
	must(t, "renew", err)
	if renewed.Token != a.Token || !renewed.Expiry.After(a.Expiry) {
		t.Errorf("renewed lease %+v: want token %d kept and expiry after %s", renewed, a.Token, a.Expiry)
	}
	h.Advance(t, 20*time.Second) // 40s after taking it, 20s after renewing
	if _, ok := tryLease(t, h, "track:dev", "replica-b", time.Minute); ok {
		t.Fatal("a renewed lease was taken before its renewed ttl passed")
	}

	must(t, "release", h.Store.ReleaseLease(ctx, renewed))
	b, ok := tryLease(t, h, "track:dev", "replica-b", time.Minute)
	if !ok || b.Token <= a.Token {
		t.Fatalf("take a released lease: got %+v ok=%v, want it granted with a token above %d", b, ok, a.Token)
	}
	_, err = h.Store.RenewLease(ctx, a, time.Minute)
	wantErr(t, "renew a released lease", err, trains.ErrLeaseLost)
	must(t, "release a lease already lost", h.Store.ReleaseLease(ctx, a))
	if l, ok := tryLease(t, h, "track:dev", "replica-c", time.Minute); ok || l.Token != b.Token {
		t.Fatalf("a stale release let go of the new holder's lease: got %+v ok=%v", l, ok)
	}
}

func testLeaseFencing(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	tr := create(t, h, train("dev", 0, trains.Confirmed))

	a, ok := tryLease(t, h, "track:dev", "replica-a", 10*time.Second)
	if !ok {
		t.Fatal("lease not granted")
	}
	next := tr
	next.Tag = "v0.5.0-dev.4"
	tr, err := h.Store.UpdateTrain(ctx, next, a.Fence())
	must(t, "fenced update while held", err)

	h.Advance(t, 10*time.Second) // a's lease expires
	_, err = h.Store.RenewLease(ctx, a, 10*time.Second)
	wantErr(t, "renew an expired lease", err, trains.ErrLeaseLost)
	_, err = h.Store.UpdateTrain(ctx, tr, a.Fence())
	wantErr(t, "fenced update after the lease expired", err, trains.ErrLeaseLost)

	b, ok := tryLease(t, h, "track:dev", "replica-b", 10*time.Second)
	if !ok || b.Token <= a.Token {
		t.Fatalf("take an expired lease: got %+v ok=%v, want granted with a token above %d", b, ok, a.Token)
	}
	_, err = h.Store.RenewLease(ctx, a, 10*time.Second)
	wantErr(t, "stale holder renews", err, trains.ErrLeaseLost)
	stale := tr
	stale.Reason = "stale holder"
	_, err = h.Store.UpdateTrain(ctx, stale, a.Fence())
	wantErr(t, "stale holder's fenced update", err, trains.ErrLeaseLost)
	_, err = h.Store.UpdateTrain(ctx, stale, trains.Fence{Lease: "track:dev", Token: b.Token + 1})
	wantErr(t, "fenced update with a token never granted", err, trains.ErrLeaseLost)
	_, err = h.Store.UpdateTrain(ctx, stale, trains.Fence{Lease: "track:staging", Token: b.Token})
	wantErr(t, "fenced update under a lease nobody holds", err, trains.ErrLeaseLost)

	got, err := h.Store.GetTrain(ctx, tr.ID)
	must(t, "get", err)
	diff(t, "train after refused fenced updates", tr, got)
	tr, err = h.Store.UpdateTrain(ctx, stale, b.Fence())
	must(t, "new holder's fenced update", err)
	if tr.Version != 3 {
		t.Errorf("version after two updates: %d, want 3", tr.Version)
	}

	// Tokens strictly increase over grants, whoever holds the lease.
	last := b.Token
	for i := range 5 {
		must(t, "release", h.Store.ReleaseLease(ctx, b))
		b, ok = tryLease(t, h, "track:dev", fmt.Sprintf("replica-%d", i%2), 10*time.Second)
		if !ok || b.Token <= last {
			t.Fatalf("grant %d: got %+v ok=%v, want a token above %d", i, b, ok, last)
		}
		last = b.Token
	}
}

// testLeaseRace: 100 goroutines try one lease; exactly one gets it.
func testLeaseRace(t *testing.T, h Harness) {
	n := winners(t, 100, "take lease", func(i int) (bool, error) {
		_, ok, err := h.Store.TryLease(ctxOf(t), "scheduler", fmt.Sprintf("replica-%d", i), time.Minute)
		return ok, err
	})
	if n != 1 {
		t.Fatalf("%d of 100 concurrent takes of one lease got it, want exactly 1", n)
	}
}
