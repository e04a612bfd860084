package live_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/trainbot/trainbot/internal/promtest"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/live"
	"github.com/trainbot/trainbot/trains"
)

// These tests run a real Prometheus (internal/promtest) scraping test
// exporters every second, and the trains service over the real adapters
// (internal/trainstack) with live verification through this package.
// Prometheus scrapes on the wall clock; the service's clock is a test
// clock that stands still unless a test moves it, so the verification's
// polls are paced by its wall-clock wait (VerifyPoll) and its deadline
// comes only when the test moves the clock past it.

// counting counts the HTTP requests the adapter makes to Prometheus.
type counting struct{ n atomic.Int64 }

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// adapter returns the adapter on the Prometheus at url for query, and its
// request count.
func adapter(t *testing.T, url, query string) (*live.Prometheus, *counting) {
	t.Helper()
	q, err := live.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	rt := &counting{}
	client, err := api.NewClient(api.Config{Address: url, RoundTripper: rt})
	if err != nil {
		t.Fatal(err)
	}
	return live.New(client, url, q, live.WithLogger(trainstack.Logger(t))), rt
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond) // polling an observable condition, with a deadline
	}
}

// verifyConfig sets the verification's timeout and a short first wait, and
// a track and verification lease long enough that moving the test clock to
// the deadline does not let them run out.
func verifyConfig(c *trains.ServiceConfig, timeout time.Duration) {
	c.VerifyTimeout, c.VerifyPoll, c.LockTTL = timeout, 100*time.Millisecond, time.Hour
}

// stackWith starts the service with live verification through p.
func stackWith(t *testing.T, p trains.LiveVersions, timeout time.Duration) *trainstack.Stack {
	t.Helper()
	return trainstack.New(t, trainstack.At("2026-12-01 10:00"), trainstack.Options{Live: p, Config: func(c *trains.ServiceConfig) {
		verifyConfig(c, timeout)
	}})
}

// cutDev cuts a dev train and waits until its deploy run succeeded and its
// verification began.
func cutDev(t *testing.T, st *trainstack.Stack) trains.Train {
	t.Helper()
	st.GH.AddCommits("main", 2)
	res, err := st.Svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: trainstack.Releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	var tr trains.Train
	waitFor(t, 30*time.Second, "the train deployed and verifying", func() bool {
		tr = st.Train(res.Train.ID)
		return tr.State == trains.Deployed && tr.Live == trains.Verifying || tr.State == trains.Failed
	})
	if tr.State != trains.Deployed || tr.LiveSince.IsZero() {
		t.Fatalf("train %s is %s (%s), live since %v", tr.ID, tr.State, tr.Error, tr.LiveSince)
	}
	return tr
}

// thread is the train's thread, one message a line, and its top message.
func thread(st *trainstack.Stack) (lines []string, top string) {
	tops := st.Ann.Top()
	if len(tops) == 0 {
		return nil, ""
	}
	for _, p := range st.Ann.Thread(tops[len(tops)-1].Ref) {
		lines = append(lines, p.Text())
	}
	return lines, tops[len(tops)-1].Text()
}

// wantStats moves the clock past the trains' slots, by which /train stats
// counts them, and checks its deployed and unverified counts.
func wantStats(t *testing.T, st *trainstack.Stack, deployed, unverified int) {
	t.Helper()
	st.Clock.Advance(8 * time.Hour)
	stats, err := st.Svc.Stats(t.Context(), 30*24*time.Hour)
	if err != nil || stats.Deployed != deployed || stats.Unverified != unverified {
		t.Errorf("stats = %+v, %v; want %d deployed, %d unverified", stats, err, deployed, unverified)
	}
}

// count counts the lines that contain s.
func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func TestVerifiedWithinSecondsOfTheRun(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "v0.0.9-dev.1", 3)
	prom := promtest.Start(t, svc.Target())
	p, _ := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, 15*time.Minute)
	svc.WaitScraped(t, 1, 30*time.Second)

	tr := cutDev(t, st)
	waitFor(t, 10*time.Second, "the top message saying the train is verifying", func() bool {
		_, top := thread(st)
		return strings.Contains(top, "verifying — waiting for an instance to report "+tr.Tag)
	})
	deployed := time.Now()
	svc.SetVersion(tr.Tag) // the deploy reaches the instances
	waitFor(t, 30*time.Second, "the train verified", func() bool { return st.Train(tr.ID).Live != trains.Verifying })
	took := time.Since(deployed)
	t.Logf("verified %s after the instances began reporting it (scrape interval %s, first poll wait 100ms)", took.Round(time.Millisecond), promtest.ScrapeInterval)
	if took > 5*time.Second {
		t.Errorf("verified after %s, want within seconds", took)
	}
	got := st.Train(tr.ID)
	if got.Live != trains.Verified || got.Instances != 3 {
		t.Fatalf("train live = %q with %d instances, want verified with 3", got.Live, got.Instances)
	}
	waitFor(t, 10*time.Second, "the thread told", func() bool {
		lines, _ := thread(st)
		return count(lines, "🟢 live: 3 instances report "+tr.Tag) == 1
	})
	lines, top := thread(st)
	if !strings.Contains(top, "🟢 verified — 3 instances report "+tr.Tag) {
		t.Errorf("the top message does not show the verification:\n%s", top)
	}
	if n := count(lines, "Cannot tell"); n != 0 {
		t.Errorf("the thread says %d times that Prometheus could not be asked:\n%s", n, strings.Join(lines, "\n"))
	}
	wantStats(t, st, 1, 0)
}

func TestUnverifiedAtTheTimeout(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "v0.0.9-dev.1", 1) // never deployed to
	prom := promtest.Start(t, svc.Target())
	p, asked := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, time.Minute)

	tr := cutDev(t, st)
	// Prometheus has the exporter's series and trainbot has asked it,
	// several times, while the test clock stands before the deadline.
	waitFor(t, 30*time.Second, "three scrapes and three questions", func() bool { return svc.Scrapes() >= 3 && asked.n.Load() >= 3 })
	if got := st.Train(tr.ID); got.Live != trains.Verifying {
		t.Fatalf("before the timeout the train is %q, want verifying", got.Live)
	}
	// The verification does not hold the track: the next train, a hotfix
	// or a rollback may go meanwhile.
	lock, ok, err := st.Store.TryLease(t.Context(), trains.Dev.LockName(), "someone-else", time.Minute)
	if err != nil || !ok {
		t.Fatalf("the dev lock is held while the train is verified (%+v, %v)", lock, err)
	}
	if err := st.Store.ReleaseLease(t.Context(), lock); err != nil {
		t.Fatal(err)
	}
	st.Clock.Advance(time.Minute)
	waitFor(t, 30*time.Second, "the train unverified", func() bool { return st.Train(tr.ID).Live != trains.Verifying })
	if got := st.Train(tr.ID); got.Live != trains.Unverified || got.State != trains.Deployed {
		t.Fatalf("after the timeout the train is %s/%q, want deployed/unverified", got.State, got.Live)
	}
	want := "The deploy run succeeded but no instance reports " + tr.Tag + " after 1m"
	waitFor(t, 10*time.Second, "the thread told", func() bool {
		lines, _ := thread(st)
		return count(lines, want) == 1
	})
	if _, top := thread(st); !strings.Contains(top, "unverified — no instance reported "+tr.Tag+" within 1m") {
		t.Errorf("the top message does not show the train unverified:\n%s", top)
	}
	wantStats(t, st, 1, 1)
}

func TestPrometheusDownIsSaidOnce(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "", 1)
	prom := promtest.Start(t, svc.Target())
	prom.Stop() // it was there; now it is not
	p, asked := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, time.Minute)

	tr := cutDev(t, st)
	waitFor(t, 30*time.Second, "four questions", func() bool { return asked.n.Load() >= 4 })
	lines, _ := thread(st)
	if n := count(lines, "Cannot tell whether "+tr.Tag+" is live: cannot reach Prometheus at "+prom.URL); n != 1 {
		t.Fatalf("after %d failed questions the thread says %d times that Prometheus cannot be reached, want once:\n%s",
			asked.n.Load(), n, strings.Join(lines, "\n"))
	}
	if got := st.Train(tr.ID); got.Live != trains.Verifying {
		t.Fatalf("while Prometheus is down the train is %q, want still verifying", got.Live)
	}
	st.Clock.Advance(time.Minute)
	waitFor(t, 30*time.Second, "the train unverified", func() bool { return st.Train(tr.ID).Live == trains.Unverified })
	waitFor(t, 10*time.Second, "the thread told", func() bool {
		lines, _ := thread(st)
		return count(lines, "no instance reports "+tr.Tag+" after 1m (no question was answered: see above)") == 1
	})
	lines, _ = thread(st)
	if n := count(lines, "cannot reach Prometheus"); n != 1 {
		t.Errorf("the thread says %d times that Prometheus cannot be reached, want once:\n%s", n, strings.Join(lines, "\n"))
	}
}

// A trainbot stopped in the middle of a verification leaves the train
// verifying; the next start continues it, with the same deadline.
func TestVerificationResumesAfterARestart(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "v0.0.9-dev.1", 1)
	prom := promtest.Start(t, svc.Target())
	p, asked := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, 15*time.Minute)
	tr := cutDev(t, st)
	waitFor(t, 30*time.Second, "a question", func() bool { return asked.n.Load() >= 1 })
	st.Stop()
	st.Svc.Wait()

	svc.SetVersion(tr.Tag)
	next := trainstack.New(t, st.Clock.Now(), trainstack.Options{GitHub: st.GH, Clock: st.Clock, Store: st.Store, Live: p,
		Config: func(c *trains.ServiceConfig) { verifyConfig(c, 15*time.Minute) }})
	// The scheduler ticks: the first tick that finds the verification's
	// lease free (the stopped service gives it back as it stops) resumes it.
	waitFor(t, 30*time.Second, "the train verified after the restart", func() bool {
		if err := next.Svc.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		return next.Train(tr.ID).Live == trains.Verified
	})
	if got := next.Train(tr.ID); got.Instances != 1 || !got.LiveSince.Equal(tr.LiveSince) {
		t.Errorf("after the restart: %d instances, live since %v (was %v)", got.Instances, got.LiveSince, tr.LiveSince)
	}
	// A second tick while nothing is left to verify starts nothing.
	if err := next.Svc.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// The tag reaches real Prometheus escaped: a quote cannot end the label
// value, and a regular expression matches the tag itself, not its dots as
// any character.
func TestPrometheusSeesTheTagEscaped(t *testing.T) {
	t.Parallel()
	odd, near := promtest.NewExporter(t, `v1.0"} or vector(7) #\x`, 1), promtest.NewExporter(t, "v1x0", 1)
	prom := promtest.Start(t, odd.Target(), near.Target())
	exact, _ := adapter(t, prom.URL, live.DefaultQuery)
	regex, _ := adapter(t, prom.URL, `count(build_info{version=~"{{tag}}"})`)
	ctx := t.Context()
	ask := func(p *live.Prometheus, tag string) int {
		t.Helper()
		n, err := p.CountLive(ctx, tag)
		if err != nil {
			t.Fatalf("CountLive(%q): %v", tag, err)
		}
		return n
	}
	waitFor(t, 30*time.Second, "both exporters scraped", func() bool { return ask(regex, "v1x0") == 1 && ask(exact, `v1.0"} or vector(7) #\x`) == 1 })
	for _, tc := range []struct {
		p    *live.Prometheus
		tag  string
		want int
	}{
		{exact, `v1.0"} or vector(7) #\x`, 1},
		{exact, `v1.0"} or vector(7) #`, 0},
		{regex, "v1.0", 0}, // unescaped, "." would match v1x0
		{regex, "v1x0", 1},
		{exact, "v9", 0}, // an empty result is 0
	} {
		if got := ask(tc.p, tc.tag); got != tc.want {
			t.Errorf("CountLive(%q) = %d, want %d", tc.tag, got, tc.want)
		}
	}
}

func TestPrometheusRefusesABadQuerySayingSo(t *testing.T) {
	t.Parallel()
	prom := promtest.Start(t)
	p, _ := adapter(t, prom.URL, `count(build_info{version="{{tag}}"}) by (`+"\"x\""+`)`)
	_, err := p.CountLive(t.Context(), "v1")
	if err == nil || !strings.Contains(err.Error(), "refused by Prometheus") || !strings.Contains(err.Error(), "TRAINBOT_VERIFY_QUERY") {
		t.Errorf("a query Prometheus cannot parse: %v", err)
	}
	matrix, _ := adapter(t, prom.URL, `build_info{version="{{tag}}"}[5m]`)
	_, err = matrix.CountLive(t.Context(), "v1")
	if err == nil || !strings.Contains(err.Error(), "returns a matrix") {
		t.Errorf("a range query: %v", err)
	}
}

// A train whose tag is replaced in its environment by a newer deploy
// before any instance reports it is superseded, not unverified: its tag
// will never be live, and that is no failure of its own.
func TestVerificationSupersededByANewerDeploy(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "v0.0.8-dev.1", 2) // the older release stays
	prom := promtest.Start(t, svc.Target())
	p, _ := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, 72*time.Hour)

	first := cutDev(t, st)
	st.Clock.Advance(30 * time.Minute) // a second dev cut, within the leases' time to live
	second := cutDev(t, st)
	if second.ID == first.ID {
		t.Fatalf("the second cut is the same train %s", second.ID)
	}
	waitFor(t, 30*time.Second, "the first train superseded", func() bool { return st.Train(first.ID).Live != trains.Verifying })
	got := st.Train(first.ID)
	if got.Live != trains.Superseded || got.ReplacedBy != second.Tag {
		t.Fatalf("first train live = %q replaced by %q, want superseded by %s", got.Live, got.ReplacedBy, second.Tag)
	}
	if cur := st.Train(second.ID); cur.Live != trains.Verifying {
		t.Errorf("the newer train is %q, want still verifying", cur.Live)
	}
	svc.SetVersion(second.Tag)
	waitFor(t, 30*time.Second, "the second train verified", func() bool { return st.Train(second.ID).Live == trains.Verified })
	wantStats(t, st, 2, 0)
}

// A rollback is verified like any train: after two dev trains (the first
// superseded by the second), rolling dev back deploys the first tag again,
// and the rollback train is verified once the instances report it.
func TestRollbackVerifiedLive(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "v0.0.8-dev.1", 2)
	prom := promtest.Start(t, svc.Target())
	p, _ := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, 72*time.Hour)

	first := cutDev(t, st)
	svc.SetVersion(first.Tag)
	waitFor(t, 30*time.Second, "the first train verified", func() bool { return st.Train(first.ID).Live == trains.Verified })
	st.Clock.Advance(30 * time.Minute)
	second := cutDev(t, st)
	svc.SetVersion(second.Tag)
	waitFor(t, 30*time.Second, "the second train verified", func() bool { return st.Train(second.ID).Live == trains.Verified })

	st.Clock.Advance(30 * time.Minute)
	res, err := st.Svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Dev, Reason: "block sync stalls", By: trainstack.Releaser})
	if err != nil || res.Outcome != trains.RollbackStarted || res.Previous.Tag != first.Tag {
		t.Fatalf("rollback = %v to %+v, %v; want started, to %s", res.Outcome, res.Previous, err, first.Tag)
	}
	var rb trains.Train
	waitFor(t, 30*time.Second, "the rollback deployed and verifying", func() bool {
		rb = st.Train(res.Train.ID)
		return rb.State == trains.Deployed && rb.Live == trains.Verifying || rb.State == trains.Failed
	})
	if rb.State != trains.Deployed || rb.Tag != first.Tag || rb.RollsBack != second.Tag {
		t.Fatalf("rollback train %s is %s with %s rolling back %q (%s)", rb.ID, rb.State, rb.Tag, rb.RollsBack, rb.Error)
	}
	svc.SetVersion(first.Tag) // the instances run the older tag again
	waitFor(t, 30*time.Second, "the rollback verified", func() bool { return st.Train(rb.ID).Live == trains.Verified })
	if got := st.Train(rb.ID); got.Instances != 2 {
		t.Errorf("rollback verified with %d instances, want 2", got.Instances)
	}
	if got := st.Train(second.ID); got.Live != trains.Verified {
		t.Errorf("the rolled-back train's verification changed to %q", got.Live)
	}
}

// A train left verifying by a trainbot that had live verification is not
// left "verifying" forever by one started without it: its first tick says
// in the thread that nobody waits any more, and the train shows no
// verification.
func TestVerificationTurnedOffEndsWhatWasLeftVerifying(t *testing.T) {
	t.Parallel()
	svc := promtest.NewExporter(t, "v0.0.9-dev.1", 1)
	prom := promtest.Start(t, svc.Target())
	p, asked := adapter(t, prom.URL, live.DefaultQuery)
	st := stackWith(t, p, 15*time.Minute)
	tr := cutDev(t, st)
	waitFor(t, 30*time.Second, "a question", func() bool { return asked.n.Load() >= 1 })
	st.Stop()
	st.Svc.Wait()

	off := trainstack.New(t, st.Clock.Now(), trainstack.Options{GitHub: st.GH, Clock: st.Clock, Store: st.Store, Announcer: st.Ann})
	// The stopped trainbot gives the verification's lease back as its
	// verification returns; the ticks until then leave the train be.
	waitFor(t, 30*time.Second, "the verification ended", func() bool {
		if err := off.Svc.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		return off.Train(tr.ID).Live != trains.Verifying
	})
	if err := off.Svc.Tick(t.Context()); err != nil { // nothing left to do
		t.Fatal(err)
	}
	if got := off.Train(tr.ID); got.Live != trains.NotVerified || got.State != trains.Deployed {
		t.Fatalf("with verification off the train is %s/%q, want deployed with no verification", got.State, got.Live)
	}
	lines, top := thread(st) // the same announcer: the thread the first trainbot began
	if n := count(lines, "Live verification is off now"); n != 1 {
		t.Errorf("the thread says %d times that verification is off, want once:\n%s", n, strings.Join(lines, "\n"))
	}
	if strings.Contains(top, "verifying") {
		t.Errorf("the top message still shows the train verifying:\n%s", top)
	}
}
