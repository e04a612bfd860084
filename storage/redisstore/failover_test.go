package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

// A failover test runs writers of every kind trainbot makes — fenced
// train updates, claims, leases (take, renew, release) and audit entries —
// through one store, SIGKILLs the Redis master that holds the store's
// keys, and checks, after Redis's own failover:
//
//	(a) the same store (no new client) writes again within 10 s of the
//	    replica's promotion, for every kind of write;
//	(b) no fencing token goes backwards: every grant of a lease has a token
//	    above every earlier grant of that lease, and a holder whose lease ran
//	    out during the outage is refused by the next holder's token;
//	(c) no acknowledged write is lost;
//	(d) no write that answered ErrUnavailable ("nothing was changed") was
//	    applied. ErrUnclear makes no such promise and is only counted.
//
// Replication is asynchronous even on loopback: a write acknowledged in
// the microseconds before the kill may not have reached the replica. So
// just before the kill the test writes on the master and waits (WAIT 1)
// until the replica has that write, and so every write acknowledged before
// it. A lost write acknowledged before that barrier fails the test; one
// acknowledged between the barrier and the kill is Redis's documented
// window (docs/storage.md) and is only reported.

// engine is what a failover test needs from a Redis deployment.
type engine struct {
	url    string
	prefix string
	// master is the server that holds the prefix's keys now.
	master func() *redistest.Server
	kill   func(*redistest.Server)
	wait   func(dead *redistest.Server) redistest.Failover
}

const (
	chaosLeaseTTL = 20 * time.Second // longer than any outage here: a lease lost is a write lost
	chaosPace     = 2 * time.Millisecond
	chaosBackoff  = 20 * time.Millisecond
	chaosRecovery = 10 * time.Second // SPEC: recovery within 10 s of Redis's own failover
)

// The kinds of write the writers make.
const (
	kindUpdate = "update"
	kindClaim  = "claim"
	kindLease  = "lease"
	kindAudit  = "audit"
)

var chaosKinds = []string{kindUpdate, kindClaim, kindLease, kindAudit}

// write is one write a writer made: its kind, what marks it (a claim key,
// an audit entry's detail, the reason a train update wrote), when the call
// returned, and its error if it failed.
type write struct {
	kind, mark string
	done       time.Time
	err        error
}

// finding is a broken promise: check is "b", "c" or "d" (see above), or
// "other" for an error no failover should cause. acked is, for a lost
// write (c), when it was acknowledged.
type finding struct {
	check string
	msg   string
	acked time.Time
}

// chaos is the writers' shared record.
type chaos struct {
	store *redisstore.Store
	stop  chan struct{}
	wg    sync.WaitGroup

	mu       sync.Mutex
	oks      map[string][]span // kind → each successful write, in the order they returned
	counts   map[string]map[string]int
	acked    []write // acknowledged claims and audit entries
	failed   []write // claims and audit entries that answered ErrUnavailable
	findings []finding
	tokens   map[string]int64 // lease → highest token granted
}

func newChaos(s *redisstore.Store) *chaos {
	c := &chaos{store: s, stop: make(chan struct{}), oks: map[string][]span{}, counts: map[string]map[string]int{}, tokens: map[string]int64{}}
	for _, k := range chaosKinds {
		c.counts[k] = map[string]int{}
	}
	return c
}

// outcome names how a call ended: ok, unavailable (ErrUnavailable: nothing
// changed), unclear (ErrUnclear), or the error itself.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, trains.ErrUnclear):
		return "unclear"
	case errors.Is(err, trains.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, trains.ErrLeaseLost):
		return "lease lost"
	case errors.Is(err, trains.ErrConflict):
		return "conflict"
	}
	return "error"
}

// span is when a call started and when it returned.
type span struct{ start, end time.Time }

// note records how a call of kind that started at start ended, and returns
// its outcome.
func (c *chaos) note(kind string, start time.Time, err error) string {
	o := outcome(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[kind][o]++
	if o == "ok" {
		c.oks[kind] = append(c.oks[kind], span{start, time.Now()})
	}
	return o
}

func (c *chaos) find(check, format string, args ...any) {
	c.findAcked(check, time.Time{}, format, args...)
}

func (c *chaos) findAcked(check string, acked time.Time, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.findings = append(c.findings, finding{check: check, msg: fmt.Sprintf(format, args...), acked: acked})
}

// granted checks (b) for a new grant of lease name.
func (c *chaos) granted(l trains.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if top := c.tokens[l.Name]; l.Token <= top {
		c.findings = append(c.findings, finding{check: "b", msg: fmt.Sprintf("lease %s granted to %s with token %d, not above the %d granted before", l.Name, l.Holder, l.Token, top)})
	}
	c.tokens[l.Name] = max(c.tokens[l.Name], l.Token)
}

// pause waits d, or returns false when the writers are told to stop.
func (c *chaos) pause(d time.Duration) bool {
	select {
	case <-c.stop:
		return false
	case <-time.After(d):
		return true
	}
}

func (c *chaos) pace(o string) bool {
	if o == "ok" {
		return c.pause(chaosPace)
	}
	return c.pause(chaosBackoff)
}

func (c *chaos) run(f func()) { c.wg.Go(f) }

// successes is how many writes of kind that started after since
// succeeded, and when the first of them returned.
func (c *chaos) successes(kind string, since time.Time) (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, first := 0, time.Time{}
	for _, sp := range c.oks[kind] {
		if sp.start.After(since) {
			if n == 0 {
				first = sp.end
			}
			n++
		}
	}
	return n, first
}

// claimer claims fresh keys, each once.
func (c *chaos) claimer(ctx context.Context, id int) {
	for n := 0; ; n++ {
		start := time.Now()
		key := fmt.Sprintf("chaos:%d:%d", id, n)
		ok, err := c.store.Claim(ctx, key, 10*time.Minute)
		o := c.note(kindClaim, start, err)
		w := write{kind: kindClaim, mark: key, done: time.Now(), err: err}
		switch {
		case o == "ok" && ok:
			c.mu.Lock()
			c.acked = append(c.acked, w)
			c.mu.Unlock()
		case o == "ok":
			c.find("d", "claim of the new key %s answered that someone else has it: an attempt of this same call was applied and the caller was told it was not first", key)
		case o == "unavailable":
			c.mu.Lock()
			c.failed = append(c.failed, w)
			c.mu.Unlock()
		case o != "unclear":
			c.find("other", "claim %s: %v", key, err)
		}
		if !c.pace(o) {
			return
		}
	}
}

// auditor appends audit entries with unique details.
func (c *chaos) auditor(ctx context.Context, id int, train trains.TrainID) {
	for n := 0; ; n++ {
		start := time.Now()
		mark := fmt.Sprintf("audit:%d:%d", id, n)
		err := c.store.Audit(ctx, trains.AuditEntry{At: time.Now(), User: "chaos", Action: "chaos", Train: train, Detail: mark, Result: "ok"})
		o := c.note(kindAudit, start, err)
		w := write{kind: kindAudit, mark: mark, done: time.Now(), err: err}
		switch o {
		case "ok":
			c.mu.Lock()
			c.acked = append(c.acked, w)
			c.mu.Unlock()
		case "unavailable":
			c.mu.Lock()
			c.failed = append(c.failed, w)
			c.mu.Unlock()
		case "unclear":
		default:
			c.find("other", "audit %s: %v", mark, err)
		}
		if !c.pace(o) {
			return
		}
	}
}

// leaser takes the shared lease name for holder, renews it three times and
// releases it, over and over, with another leaser on the same name.
func (c *chaos) leaser(ctx context.Context, name, holder string) {
	var (
		held     trains.Lease
		acked    time.Time // when the last grant or renewal was acknowledged
		doubt    bool      // a call on the held lease failed since then
		renewals int
		lastTry  error // how the last TryLease ended
		// unclearTry: a TryLease since the lease was last known not to be
		// ours answered ErrUnclear, so it may have been granted.
		unclearTry bool
	)
	for {
		start := time.Now()
		var o string
		switch {
		case held.Token == 0:
			l, ok, err := c.store.TryLease(ctx, name, holder, chaosLeaseTTL)
			o = c.note(kindLease, start, err)
			switch {
			case o == "ok" && ok:
				c.granted(l)
				held, acked, doubt, renewals = l, time.Now(), false, 0
			case o == "ok" && l.Holder == holder:
				// Ours, though we were not told: an earlier TryLease that
				// failed was applied. Only one that answered ErrUnclear may
				// have been; the last one answering ErrUnavailable is a
				// finding unless an unclear one came before it.
				if lastTry != nil && outcome(lastTry) == "unavailable" && !unclearTry {
					c.find("d", "TryLease %s by %s answered ErrUnavailable, yet %s was granted (token %d): %v", name, holder, holder, l.Token, lastTry)
				}
				held, acked, doubt, renewals = l, time.Now(), true, 0
			case o != "ok" && o != "unavailable" && o != "unclear":
				c.find("other", "TryLease %s: %v", name, err)
			}
			switch {
			case o == "unclear":
				unclearTry = true
			case o == "ok": // granted, found ours, or found another's: known now
				unclearTry = false
			}
			lastTry = err
		case renewals < 3:
			l, err := c.store.RenewLease(ctx, held, chaosLeaseTTL)
			o = c.note(kindLease, start, err)
			switch o {
			case "ok":
				held, acked, doubt = l, time.Now(), false
				renewals++
			case "lease lost":
				if !doubt && time.Since(acked) < chaosLeaseTTL {
					c.findAcked("c", acked, "lease %s (token %d) renewed and acknowledged, then lost within its %s ttl", name, held.Token, chaosLeaseTTL)
				}
				held = trains.Lease{}
			case "unavailable", "unclear":
				doubt = true
			default:
				c.find("other", "RenewLease %s: %v", name, err)
			}
		default:
			err := c.store.ReleaseLease(ctx, held)
			o = c.note(kindLease, start, err)
			switch o {
			case "ok":
				held = trains.Lease{}
			case "unavailable", "unclear": // try again: releasing is idempotent
			default:
				c.find("other", "ReleaseLease %s: %v", name, err)
			}
		}
		if !c.pace(o) {
			if held.Token != 0 {
				_ = c.store.ReleaseLease(context.WithoutCancel(ctx), held)
			}
			return
		}
	}
}

// updater updates its own train under its own lease, each update writing
// a unique reason, and checks what it reads back after any failure.
func (c *chaos) updater(ctx context.Context, train trains.Train) {
	name, holder := "track:"+string(train.ID), "updater-"+string(train.ID)
	var (
		lease       trains.Lease
		leaseAcked  time.Time
		leaseDoubt  bool
		cur         = train
		lastAcked   write // the last acknowledged update
		lastVersion = train.Version
		failed      = map[string]error{} // reasons of updates that answered ErrUnavailable
		unclear     = map[string]bool{}
		reread      bool
	)
	for n := 0; ; n++ {
		start := time.Now()
		var o string
		switch {
		case lease.Token == 0:
			l, ok, err := c.store.TryLease(ctx, name, holder, chaosLeaseTTL)
			o = c.note(kindLease, start, err)
			switch {
			case o == "ok" && ok:
				c.granted(l)
				lease, leaseAcked, leaseDoubt = l, time.Now(), false
			case o == "ok" && l.Holder == holder:
				lease, leaseAcked, leaseDoubt = l, time.Now(), true
			case o != "ok" && o != "unavailable" && o != "unclear":
				c.find("other", "TryLease %s: %v", name, err)
			}
		case time.Since(leaseAcked) > chaosLeaseTTL/4:
			l, err := c.store.RenewLease(ctx, lease, chaosLeaseTTL)
			o = c.note(kindLease, start, err)
			switch o {
			case "ok":
				lease, leaseAcked, leaseDoubt = l, time.Now(), false
			case "lease lost":
				if !leaseDoubt && time.Since(leaseAcked) < chaosLeaseTTL {
					c.findAcked("c", leaseAcked, "lease %s (token %d) acknowledged, then lost within its %s ttl", name, lease.Token, chaosLeaseTTL)
				}
				lease = trains.Lease{}
			case "unavailable", "unclear":
				leaseDoubt = true
			default:
				c.find("other", "RenewLease %s: %v", name, err)
			}
		case reread:
			got, err := c.store.GetTrain(ctx, train.ID)
			if o = outcome(err); o == "ok" {
				if got.Version < lastVersion {
					c.findAcked("c", lastAcked.done, "train %s is at version %d, but the update to version %d (%s) was acknowledged", train.ID, got.Version, lastVersion, lastAcked.mark)
				}
				if err := failed[got.Reason]; err != nil {
					c.find("d", "train %s holds the update %s, which answered ErrUnavailable: %v", train.ID, got.Reason, err)
				}
				cur, lastVersion, reread = got, got.Version, false
			}
		default:
			t := cur
			t.Reason = fmt.Sprintf("%s:%d", train.ID, n)
			got, err := c.store.UpdateTrain(ctx, t, lease.Fence())
			o = c.note(kindUpdate, start, err)
			switch o {
			case "ok":
				cur, lastVersion = got, got.Version
				lastAcked = write{kind: kindUpdate, mark: t.Reason, done: time.Now()}
			case "unavailable":
				failed[t.Reason] = err
				reread = true
			case "unclear":
				unclear[t.Reason] = true
				reread = true
			case "lease lost":
				if !leaseDoubt && time.Since(leaseAcked) < chaosLeaseTTL {
					c.findAcked("c", leaseAcked, "fenced update of %s refused (lease lost), though lease %s (token %d) was acknowledged %s ago", train.ID, name, lease.Token, time.Since(leaseAcked).Round(time.Millisecond))
				}
				lease, reread = trains.Lease{}, true
			case "conflict":
				if len(failed)+len(unclear) == 0 {
					c.find("c", "update of %s at version %d: conflict, though every earlier update was acknowledged", train.ID, t.Version)
				}
				reread = true
			default:
				c.find("other", "UpdateTrain %s: %v", train.ID, err)
				reread = true
			}
		}
		if !c.pace(o) {
			if lease.Token != 0 {
				_ = c.store.ReleaseLease(context.WithoutCancel(ctx), lease)
			}
			return
		}
	}
}

// runFailover runs the writers on a store on e, kills e's master, and
// checks (a)–(d).
func runFailover(t *testing.T, e engine) {
	begin := time.Now()
	client := engineClient(t, e.url)
	store, err := redisstore.New(client, e.prefix, redisstore.WithLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c := newChaos(store)

	var updated []trains.TrainID
	for i := range 2 {
		tr, err := store.CreateTrain(ctx, trains.Train{ID: trains.TrainID(fmt.Sprintf("chaos-%d", i)), Track: "dev", At: storagetest.T0, State: trains.Confirmed})
		if err != nil {
			t.Fatalf("create train: %v", err)
		}
		updated = append(updated, tr.ID)
		c.run(func() { c.updater(ctx, tr) })
	}
	c.run(func() { c.claimer(ctx, 0) })
	c.run(func() { c.auditor(ctx, 0, updated[0]) })
	c.run(func() { c.leaser(ctx, "scheduler", "replica-a") })
	c.run(func() { c.leaser(ctx, "scheduler", "replica-b") })
	stopped := false
	stopWriters := func() {
		if !stopped {
			stopped = true
			close(c.stop)
			c.wg.Wait()
		}
	}
	t.Cleanup(stopWriters)

	// Warm up: every kind of write has been made.
	waitUntil(t, "every kind of write succeeds before the kill", 10*time.Second, func() bool {
		for _, k := range chaosKinds {
			if n, _ := c.successes(k, begin); n < 20 {
				return false
			}
		}
		return true
	})

	// A lease shorter than the outage, held by a holder that will not renew
	// it: after the failover the next holder gets a larger token, and the
	// old holder's fenced write is refused.
	fenced, err := store.CreateTrain(ctx, trains.Train{ID: "chaos-fenced", Track: "dev", At: storagetest.T0, State: trains.Confirmed})
	if err != nil {
		t.Fatal(err)
	}
	old, ok, err := store.TryLease(ctx, "track:fenced", "old-holder", time.Second)
	if err != nil || !ok {
		t.Fatalf("take the short lease: %v %v", ok, err)
	}

	master := e.master()
	barrierAt := time.Now()
	barrier(ctx, t, directClient(t, master), e.prefix)
	e.kill(master)
	f := e.wait(master)
	promoted, settled := f.Took()

	// (a) every kind of write succeeds again, on the same client, within
	// 10 s of the promotion.
	recovered := map[string]time.Duration{}
	deadline := f.Promoted.Add(chaosRecovery)
	for _, k := range chaosKinds {
		var first time.Time
		for {
			var n int
			if n, first = c.successes(k, f.Killed); n > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(pollInterval)
		}
		if first.IsZero() {
			t.Errorf("(a) no %s write succeeded within %s of the replica's promotion (the failover took %s): the store did not recover by itself", k, chaosRecovery, promoted.Round(time.Millisecond))
			continue
		}
		recovered[k] = first.Sub(f.Promoted)
		if recovered[k] > chaosRecovery {
			t.Errorf("(a) the first %s write after the failover succeeded %s after the promotion, want within %s", k, recovered[k].Round(time.Millisecond), chaosRecovery)
		}
	}
	// Let the writers go on after the failover, so that leases are granted
	// and renewed, trains updated, on the new master.
	waitUntil(t, "writes of every kind go on after the failover", 10*time.Second, func() bool {
		for _, k := range chaosKinds {
			if n, _ := c.successes(k, f.Settled); n < 20 {
				return false
			}
		}
		return true
	})
	stopWriters()

	// (b) for a lease that ran out during the outage.
	var next trains.Lease
	waitUntil(t, "the short lease runs out and a new holder takes it", 5*time.Second, func() bool {
		next, ok, err = store.TryLease(ctx, "track:fenced", "new-holder", time.Minute)
		return err == nil && ok
	})
	if next.Token <= old.Token {
		t.Errorf("(b) the lease taken after the failover has token %d, not above the %d of the holder before it", next.Token, old.Token)
	}
	if _, err := store.UpdateTrain(ctx, fenced, old.Fence()); !errors.Is(err, trains.ErrLeaseLost) {
		t.Errorf("(b) the old holder's fenced write after the failover: got %v, want ErrLeaseLost", err)
	}
	if _, err := store.UpdateTrain(ctx, fenced, next.Fence()); err != nil {
		t.Errorf("(b) the new holder's fenced write: %v", err)
	}

	// (c) and (d) for the claims and the audit log, read back after the failover.
	claimed := map[string]bool{}
	audited := map[string]int{}
	log, err := store.AuditLog(ctx, "", 0)
	if err != nil {
		t.Fatalf("read the audit log back: %v", err)
	}
	for _, a := range log {
		audited[a.Detail]++
	}
	for _, w := range slices.Concat(c.acked, c.failed) {
		if w.kind == kindClaim {
			n, err := client.Exists(ctx, e.prefix+"claim:"+w.mark).Result()
			if err != nil {
				t.Fatalf("read claim %s back: %v", w.mark, err)
			}
			claimed[w.mark] = n == 1
		}
	}
	present := func(w write) bool {
		if w.kind == kindClaim {
			return claimed[w.mark]
		}
		return audited[w.mark] > 0
	}
	for _, w := range c.acked {
		if !present(w) {
			c.findAcked("c", w.done, "%s %s was acknowledged and is gone", w.kind, w.mark)
		}
	}
	for _, w := range c.failed {
		if present(w) {
			c.find("d", "%s %s answered ErrUnavailable and was applied: %v", w.kind, w.mark, w.err)
		}
	}
	var dup []string
	for mark, n := range audited {
		if n > 1 && strings.HasPrefix(mark, "audit:") {
			dup = append(dup, fmt.Sprintf("%s ×%d", mark, n))
		}
	}
	if len(dup) > 0 {
		t.Logf("note: audit entries written more than once (a retried append that had been applied): %v", dup)
	}

	var lostInWindow int
	for _, fd := range c.findings {
		switch {
		case fd.check == "c" && !fd.acked.IsZero() && fd.acked.After(barrierAt):
			lostInWindow++
			t.Logf("note: (c) acknowledged after the last replication barrier, in Redis's asynchronous window: %s", fd.msg)
		case fd.check == "other":
			t.Errorf("unexpected: %s", fd.msg)
		default:
			t.Errorf("(%s) %s", fd.check, fd.msg)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("Redis failover: replica promoted %s after the kill, all agreed after %s", promoted.Round(time.Millisecond), settled.Round(time.Millisecond))
	for _, k := range chaosKinds {
		t.Logf("store recovery, %-6s first success %6s after the promotion; calls: %v", k, recovered[k].Round(time.Millisecond), c.counts[k])
	}
	t.Logf("checked %d acknowledged and %d unavailable claims and audit entries; %d lost in the replication window; test took %s",
		len(c.acked), len(c.failed), lostInWindow, time.Since(begin).Round(time.Millisecond))
}

// pollInterval is how often the tests look again while they wait.
const pollInterval = 10 * time.Millisecond

// waitUntil polls cond until it holds, and fails t after d.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(pollInterval)
	}
}

func randomID(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
