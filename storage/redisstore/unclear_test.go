package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

// The tests of this file put a redistest.Proxy between the store and
// Redis and make a write's outcome unclear: Redis applies it, its reply is
// dropped, and the client times out (SPEC §7).

// faulty is a store whose client goes through a proxy.
type faulty struct {
	store  *redisstore.Store
	proxy  *redistest.Proxy
	raw    *redis.Client // straight to Redis, for the checks
	prefix string
	errs   *atomic.Int32 // calls of the store's error hook
	log    *syncbuf.Buffer
}

// storeTimeout bounds each call of a faulty store: the time a dropped
// reply costs.
const storeTimeout = 300 * time.Millisecond

// newFaulty makes a store through a proxy, with a store timeout of
// timeout; change, if set, adjusts the go-redis options (they are
// go-redis's defaults otherwise, retries included).
func newFaulty(t *testing.T, timeout time.Duration, change func(*redis.Options)) faulty {
	t.Helper()
	r := redistest.New(t)
	p := redistest.NewProxy(t, r.URL)
	c := p.Client(t, change)
	f := faulty{proxy: p, raw: r.Client, prefix: r.Prefix, errs: &atomic.Int32{}, log: &syncbuf.Buffer{}}
	var err error
	f.store, err = redisstore.New(c, r.Prefix, redisstore.WithTimeout(timeout),
		redisstore.WithLogger(slog.New(slog.NewTextHandler(f.log, nil))),
		redisstore.WithErrorHook(func() { f.errs.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("store log:\n%s", f.log.String())
		}
	})
	warmScripts(t, r)
	return f
}

// warmScripts runs each of the store's scripts once, under a prefix of
// their own, so that Redis has them: a script Redis does not have yet is
// sent as EVALSHA, refused with NOSCRIPT, and sent again as EVAL — and a
// test that drops the reply to the EVALSHA would drop a NOSCRIPT, not the
// reply to a write that was applied.
func warmScripts(t *testing.T, r *redistest.Redis) {
	t.Helper()
	s, err := redisstore.New(r.Client, r.Prefix+"warm:", redisstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("warm the scripts: %s: %v", what, err)
		}
	}
	_, err = s.Claim(ctx, "k", time.Minute)
	must("claim", err)
	l, _, err := s.TryLease(ctx, "track:dev", "warm", time.Minute)
	must("take lease", err)
	_, err = s.RenewLease(ctx, l, time.Minute)
	must("renew lease", err)
	tr, err := s.CreateTrain(ctx, testTrain)
	must("create train", err)
	_, err = s.UpdateTrain(ctx, tr, l.Fence())
	must("update train", err)
	must("release lease", s.ReleaseLease(ctx, l))
	r1 := trains.SignOffRecord{User: "U1", At: storagetest.T0}
	_, err = s.AddSignOff(ctx, tr.ID, trains.Approval, r1)
	must("add sign-off", err)
	must("remove sign-offs", s.RemoveSignOffs(ctx, tr.ID, trains.Approval, []trains.SignOffRecord{r1}))
}

// hasArg matches a command that names key (a whole argument).
func hasArg(keys ...string) func([]string) bool {
	return func(cmd []string) bool {
		for _, k := range keys {
			if !slices.Contains(cmd, k) {
				return false
			}
		}
		return true
	}
}

var testTrain = trains.Train{ID: "dev-2026-12-01", Track: trains.Dev, At: storagetest.T0, State: trains.Confirmed, CutBy: "U1"}

// unclearCase is one kind of write: setup prepares the store, write makes
// the write whose reply is dropped (picked by match, given the prefix),
// and check says whether the write's answer and Redis's state are true.
type unclearCase struct {
	name  string
	setup func(t *testing.T, f faulty) any
	match func(prefix string) func([]string) bool
	write func(ctx context.Context, f faulty, state any) (any, error)
	check func(t *testing.T, f faulty, state, got any)
}

func unclearCases() []unclearCase {
	return []unclearCase{
		{
			name:  "claim",
			match: func(p string) func([]string) bool { return hasArg(p + "claim:envelope:1") },
			write: func(ctx context.Context, f faulty, _ any) (any, error) {
				return f.store.Claim(ctx, "envelope:1", time.Minute)
			},
			check: func(t *testing.T, f faulty, _, got any) {
				if got != true {
					t.Errorf("Claim answered %v: want true, the claim is this call's", got)
				}
				if ok, err := f.store.Claim(t.Context(), "envelope:1", time.Minute); err != nil || ok {
					t.Errorf("a second claim: %v %v, want false: the first is held", ok, err)
				}
			},
		},
		{
			name:  "create train",
			match: func(p string) func([]string) bool { return hasArg(p+"trains", string(testTrain.ID)) },
			write: func(ctx context.Context, f faulty, _ any) (any, error) {
				return f.store.CreateTrain(ctx, testTrain)
			},
			check: func(t *testing.T, f faulty, _, got any) {
				tr, _ := got.(trains.Train)
				stored, err := f.store.GetTrain(t.Context(), testTrain.ID)
				if err != nil || tr.Version != 1 || stored.Version != 1 || stored.CutBy != "U1" {
					t.Errorf("CreateTrain answered %+v; stored %+v (%v): want version 1 both", tr, stored, err)
				}
			},
		},
		{
			name: "fenced update",
			setup: func(t *testing.T, f faulty) any {
				tr, err := f.store.CreateTrain(t.Context(), testTrain)
				if err != nil {
					t.Fatal(err)
				}
				l, ok, err := f.store.TryLease(t.Context(), "track:dev", "replica-a#1", time.Minute)
				if err != nil || !ok {
					t.Fatalf("lease: %v %v", ok, err)
				}
				tr.Tag = "v0.5.0-dev.4"
				return [2]any{tr, l}
			},
			match: func(p string) func([]string) bool { return hasArg(p+"trains", p+"lease:track:dev") },
			write: func(ctx context.Context, f faulty, state any) (any, error) {
				s := state.([2]any)
				return f.store.UpdateTrain(ctx, s[0].(trains.Train), s[1].(trains.Lease).Fence())
			},
			check: func(t *testing.T, f faulty, _, got any) {
				tr, _ := got.(trains.Train)
				stored, err := f.store.GetTrain(t.Context(), testTrain.ID)
				if err != nil || tr.Version != 2 || stored.Version != 2 || stored.Tag != "v0.5.0-dev.4" {
					t.Errorf("UpdateTrain answered %+v; stored %+v (%v): want version 2 with the tag both", tr, stored, err)
				}
			},
		},
		{
			name:  "add sign-off",
			match: func(p string) func([]string) bool { return hasArg(p + "signed:staging-2026-12-09:approval") },
			write: func(ctx context.Context, f faulty, _ any) (any, error) {
				return f.store.AddSignOff(ctx, "staging-2026-12-09", trains.Approval,
					trains.SignOffRecord{User: "U2", At: storagetest.T0, Promotes: "v0.5.0-dev.4", Commit: "abc"})
			},
			check: func(t *testing.T, f faulty, _, got any) {
				if got != true {
					t.Errorf("AddSignOff answered added=%v: want true, the sign-off is this call's", got)
				}
				rs, err := f.store.SignOffs(t.Context(), "staging-2026-12-09", trains.Approval)
				if err != nil || len(rs) != 1 || rs[0].User != "U2" {
					t.Errorf("sign-offs stored: %+v %v, want U2's alone", rs, err)
				}
			},
		},
		{
			name:  "take lease",
			match: func(p string) func([]string) bool { return hasArg(p + "lease:track:dev") },
			write: func(ctx context.Context, f faulty, _ any) (any, error) {
				l, ok, err := f.store.TryLease(ctx, "track:dev", "replica-a#7", time.Minute)
				return [2]any{l, ok}, err
			},
			check: func(t *testing.T, f faulty, _, got any) {
				g, _ := got.([2]any)
				l, _ := g[0].(trains.Lease)
				if g[1] != true || l.Holder != "replica-a#7" || l.Token <= 0 {
					t.Errorf("TryLease answered %+v ok=%v: want it granted to replica-a#7", l, g[1])
				}
				if _, err := f.store.RenewLease(t.Context(), l, time.Minute); err != nil {
					t.Errorf("renew the lease TryLease answered: %v", err)
				}
			},
		},
		{
			name:  "audit",
			match: func(p string) func([]string) bool { return hasArg(p + "audit") },
			write: func(ctx context.Context, f faulty, _ any) (any, error) {
				return nil, f.store.Audit(ctx, trains.AuditEntry{At: storagetest.T0, User: "U1", Action: "pause", Result: "ok"})
			},
			check: func(t *testing.T, f faulty, _, _ any) {
				log, err := f.store.AuditLog(t.Context(), "", 0)
				if err != nil || len(log) != 1 {
					t.Errorf("audit log: %+v %v, want the one entry, once", log, err)
				}
			},
		},
		{
			name:  "put window",
			match: func(p string) func([]string) bool { return hasArg(p + "windows") },
			write: func(ctx context.Context, f faulty, _ any) (any, error) {
				return nil, f.store.PutWindow(ctx, trains.Window{ID: "w1", From: storagetest.T0, Until: storagetest.T0.Add(time.Hour), Reason: "upgrade", By: "U1"})
			},
			check: func(t *testing.T, f faulty, _, _ any) {
				ws, err := f.store.Windows(t.Context(), storagetest.T0)
				if err != nil || len(ws) != 1 || ws[0].ID != "w1" {
					t.Errorf("windows: %+v %v, want w1", ws, err)
				}
			},
		},
	}
}

// TestUnclearWritesAreSettled: each kind of write is applied, its reply
// is dropped and the call times out; the store reads back (or repeats an
// idempotent write) and answers what is true, not ErrUnavailable. The
// error hook counts the failure once.
func TestUnclearWritesAreSettled(t *testing.T) {
	t.Parallel()
	for _, tc := range unclearCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaulty(t, storeTimeout, nil)
			var state any
			if tc.setup != nil {
				state = tc.setup(t, f)
			}
			errsBefore := f.errs.Load()
			fired := f.proxy.DropReplyAfter(tc.match(f.prefix))
			got, err := tc.write(context.Background(), f, state)
			select {
			case <-fired:
			default:
				t.Fatal("the proxy did not see the write: its match is wrong")
			}
			if err != nil {
				t.Fatalf("the write applied whose reply was lost: got %v, want its true result", err)
			}
			tc.check(t, f, state, got)
			if n := f.errs.Load() - errsBefore; n != 1 {
				t.Errorf("the error hook counted %d failures, want 1", n)
			}
			if !strings.Contains(f.log.String(), "unclear") {
				t.Errorf("the store logged nothing about the unclear write:\n%s", f.log.String())
			}
		})
	}
}

// TestResentWritesGiveTheTrueAnswer: with a read timeout shorter than
// the call's deadline, go-redis itself sends a write again after a reply
// is lost. The second send must not answer for the first: a claim is
// still this call's, a train created is not "a train with that id exists".
func TestResentWritesGiveTheTrueAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range unclearCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaulty(t, 5*time.Second, func(o *redis.Options) { o.ReadTimeout = 200 * time.Millisecond })
			var state any
			if tc.setup != nil {
				state = tc.setup(t, f)
			}
			f.proxy.DropReplyAfter(tc.match(f.prefix))
			got, err := tc.write(context.Background(), f, state)
			if err != nil {
				t.Fatalf("a write sent twice by go-redis: %v", err)
			}
			tc.check(t, f, state, got)
		})
	}
}

// TestWriteNotSentIsUnavailable: a write that never left (the proxy
// refuses connections) is ErrUnavailable, "nothing was changed", and
// nothing was.
func TestWriteNotSentIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range unclearCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaulty(t, storeTimeout, nil)
			var state any
			if tc.setup != nil {
				state = tc.setup(t, f)
			}
			// A fresh client: no open connection that the block would freeze.
			opt, _ := redis.ParseURL(f.proxy.URL())
			opt.ContextTimeoutEnabled = true
			c := redis.NewClient(opt)
			defer c.Close()
			fresh, err := redisstore.New(c, f.prefix, redisstore.WithTimeout(storeTimeout), redisstore.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			f.proxy.Block()
			_, err = tc.write(context.Background(), faulty{store: fresh}, state)
			if !errors.Is(err, trains.ErrUnavailable) || errors.Is(err, trains.ErrUnclear) {
				t.Fatalf("a write never sent: got %v, want ErrUnavailable alone", err)
			}
			if !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("message %q does not say nothing was changed", err)
			}
			f.proxy.Unblock()
			if n := f.proxy.Count(tc.match(f.prefix)); n != 0 {
				t.Errorf("the write reached Redis %d times while blocked", n)
			}
		})
	}
}

// TestUnsettledWriteIsUnclear: the reply is dropped and then Redis
// cannot be reached, so the store cannot read back: ErrUnclear, never
// ErrUnavailable, and the message does not say nothing was changed.
func TestUnsettledWriteIsUnclear(t *testing.T) {
	t.Parallel()
	for _, tc := range unclearCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFaulty(t, storeTimeout, nil)
			var state any
			if tc.setup != nil {
				state = tc.setup(t, f)
			}
			// Blocked as the write goes out: the store cannot read it back.
			fired := f.proxy.DropReplyAfterAndBlock(tc.match(f.prefix))
			start := time.Now()
			_, err := tc.write(context.Background(), f, state)
			<-fired
			if !errors.Is(err, trains.ErrUnclear) || errors.Is(err, trains.ErrUnavailable) {
				t.Fatalf("an unsettled write: got %v, want ErrUnclear alone", err)
			}
			if strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("message %q says nothing was changed", err)
			}
			if took := time.Since(start); took > 10*storeTimeout {
				t.Errorf("settling took %s: want it bounded by a few store timeouts (%s)", took, storeTimeout)
			}
			if n := f.errs.Load(); n < 1 {
				t.Errorf("the error hook was not called")
			}
		})
	}
}

// TestUnsettledClaimIsGivenBack: a claim that may have been taken but
// could not be settled is not left to block the operation: the store
// gives it back once Redis answers, so a later claim of the key (a
// redelivery, the next reminder tick) gets it.
func TestUnsettledClaimIsGivenBack(t *testing.T) {
	t.Parallel()
	f := newFaulty(t, storeTimeout, nil)
	ctx := t.Context()
	key := f.prefix + "claim:envelope:1"
	f.proxy.DropReplyAfterAndBlock(hasArg(key))
	if _, err := f.store.Claim(ctx, "envelope:1", time.Hour); !errors.Is(err, trains.ErrUnclear) {
		t.Fatalf("claim: got %v, want ErrUnclear", err)
	}
	if n, err := f.raw.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("the claim is not in Redis (%d, %v): the test did not make it unclear", n, err)
	}
	f.proxy.Unblock()
	eventually(t, "the store gives the unsettled claim back", func() bool {
		n, err := f.raw.Exists(ctx, key).Result()
		return err == nil && n == 0
	})
	if ok, err := f.store.Claim(ctx, "envelope:1", time.Hour); err != nil || !ok {
		t.Fatalf("claim after the give-back: %v %v, want true", ok, err)
	}
}

// TestUnsettledClaimSettlesOnTheNextClaim: before the give-back has run,
// the same process claiming the key again finds its own unsettled claim
// and gets it.
func TestUnsettledClaimSettlesOnTheNextClaim(t *testing.T) {
	t.Parallel()
	f := newFaulty(t, storeTimeout, nil)
	ctx := t.Context()
	key := f.prefix + "claim:reminder:dev-2026-12-01:1h0m0s"
	f.proxy.DropReplyAfterAndBlock(hasArg(key))
	if _, err := f.store.Claim(ctx, "reminder:dev-2026-12-01:1h0m0s", time.Hour); !errors.Is(err, trains.ErrUnclear) {
		t.Fatalf("claim: got %v, want ErrUnclear", err)
	}
	f.proxy.Unblock()
	if ok, err := f.store.Claim(ctx, "reminder:dev-2026-12-01:1h0m0s", time.Hour); err != nil || !ok {
		t.Fatalf("the next claim of the key: %v %v, want true: the held claim is this process's own", ok, err)
	}
	// And once it is taken again, it is held: the give-back must not free it.
	eventually(t, "the give-back is done", func() bool {
		return strings.Contains(f.log.String(), "give-back done")
	})
	if ok, err := f.store.Claim(ctx, "reminder:dev-2026-12-01:1h0m0s", time.Hour); err != nil || ok {
		t.Fatalf("a third claim: %v %v, want false: the second holds it", ok, err)
	}
}
