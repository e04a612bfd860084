package deploy_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// A world is a repository's size: its commits and tags.
type world struct {
	name    string
	commits int
	// lines of train tags, ten each: dev.1–8, staging.1, hotfix.1.
	lines int
	// annotated and lightweight tags under v that are not train tags
	// (v1.N.0 releases, v2.N.0-rc.1), and tags outside v (build-N).
	annotated, light, outside int
	// pageSize of the tag listing (0: one page, as GitHub does today).
	pageSize int
}

var (
	small = world{name: "small", commits: 100, lines: 1}
	// big is 10,000 tags: 300 train tags, 700 annotated and 4,000
	// lightweight other v… tags (50 pages of 100), 5,000 build tags.
	big = world{name: "big", commits: 50_000, lines: 30, annotated: 700, light: 4000, outside: 5000, pageSize: 100}
	// bigOnePage is big with the tag listing in one page, as GitHub
	// documents git/matching-refs (no per_page or page parameters).
	bigOnePage = world{name: "big-one-page", commits: 50_000, lines: 30, annotated: 700, light: 4000, outside: 5000}
)

// now is when the first train of a world is cut: a Wednesday.
var now = trainstack.At("2026-12-09 10:00")

// build makes the world on fake. The newest line is v0.<lines>.0: its
// staging.1 promoted dev.2; dev.8 has soaked 8 days.
func (w world) build(t testing.TB, fake *githubfake.Fake) {
	t.Helper()
	shas := fake.AddCommits("main", w.commits-1)
	fake.SetRefsPageSize(w.pageSize)
	day := 24 * time.Hour
	for l := range w.lines {
		line := fmt.Sprintf("v0.%d.0", l+1)
		// each line takes 10 commits a little apart, the newest line last.
		at := func(i int) string { return shas[len(shas)-1-(w.lines-l)*20+i*2] }
		age := time.Duration(w.lines-l) * 14 * day // the newest line began 14 days ago
		date := func(i int) time.Time { return now.Add(-age + time.Duration(i)*day) }
		for i := range 8 {
			fake.AddAnnotatedTag(fmt.Sprintf("%s-dev.%d", line, i+1), at(i), "dev", date(i))
		}
		fake.AddAnnotatedTag(line+"-hotfix.1", at(1), "hotfix", date(2))
		fake.AddAnnotatedTag(line+"-staging.1", at(1), "staging", date(3))
	}
	for i := range w.annotated {
		fake.AddAnnotatedTag(fmt.Sprintf("v1.%d.0", i), shas[i%len(shas)], "sdk", now.Add(-day))
	}
	for i := range w.light {
		fake.AddTag(fmt.Sprintf("v2.%d.0-rc.1", i), shas[i%len(shas)])
	}
	for i := range w.outside {
		fake.AddTag(fmt.Sprintf("build-%05d", i), shas[i%len(shas)])
	}
}

// cost is what one whole train cost: counted requests and 304s.
type cost struct{ counted, notModified int }

func (c cost) String() string { return fmt.Sprintf("%d counted (+%d 304)", c.counted, c.notModified) }

// measure runs f and returns the requests it made of fake; with
// SCALE_DEBUG set, it logs each request (to see where a cost comes from).
func measure(t testing.TB, fake *githubfake.Fake, f func()) cost {
	t.Helper()
	c0, n0 := fake.Counted(), fake.NotModified()
	r0 := len(fake.Requests())
	f()
	if os.Getenv("SCALE_DEBUG") != "" {
		for _, r := range fake.Requests()[r0:] {
			t.Logf("  %s %s %s %d", r.Method, r.Route, r.Query, r.Status)
		}
	}
	return cost{fake.Counted() - c0, fake.NotModified() - n0}
}

// costs are a world's trains: each kind cold (first after a start) and warm.
type costs struct {
	dev, staging, hotfix [2]cost // cold, warm
}

// trainCosts runs, in a world, on a service restarted after a first
// calendar, two staging trains, then (restarted) two dev trains, then
// (restarted) two hotfixes, each to the end.
func trainCosts(t testing.TB, w world) costs {
	t.Helper()
	clock := trainstest.NewClock(now)
	st := trainstack.New(t, now, trainstack.Options{Clock: clock})
	fake := st.GH
	w.build(t, fake)
	restart := func() {
		st.Stop()
		st.Svc.Wait()
		st = trainstack.New(t, clock.Now(), trainstack.Options{Clock: clock, GitHub: fake, Store: st.Store})
	}
	ctx := t.Context()
	var out costs
	// trainbot has run before: a calendar read the tags once, and the
	// store kept their tag objects. (A new installation's very first
	// command reads each annotated train tag's object once.)
	if _, err := st.Svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
		t.Fatal(err)
	}
	restart()
	// Staging trains on their slots' days (every other Wednesday).
	for i := range 2 {
		if i == 1 {
			clock.Set(now.Add(14 * 24 * time.Hour))
			sha := fake.AddCommits("main", 1)[0] // a newer dev tag that has soaked
			fake.AddAnnotatedTag(fmt.Sprintf("v0.%d.0-dev.20", w.lines), sha, "dev", clock.Now().Add(-8*24*time.Hour))
		}
		out.staging[i] = measure(t, fake, func() {
			if _, err := st.Svc.Approve(ctx, trains.ApproveRequest{By: trainstack.Validator, Train: "staging-" + clock.Now().Format("2006-01-02")}); err != nil {
				t.Fatalf("%s staging approval %d: %v", w.name, i+1, err)
			}
			res, err := st.Svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: trainstack.Releaser})
			if err != nil || res.Outcome != trains.CutStarted {
				t.Fatalf("%s staging train %d: %v %q %+v, %v", w.name, i+1, res.Outcome, res.Plan.Nothing, res.SignOff, err)
			}
			st.Svc.Wait()
		})
	}
	restart()
	for i := range 2 {
		clock.Advance(24 * time.Hour)
		fake.AddCommits("main", 3)
		out.dev[i] = measure(t, fake, func() {
			res, err := st.Svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: trainstack.Releaser})
			if err != nil || res.Outcome != trains.CutStarted {
				t.Fatalf("%s dev train %d: %v, %v", w.name, i+1, res.Outcome, err)
			}
			st.Svc.Wait()
		})
	}
	restart()
	// The first hotfix is a fix on a branch cut from the staging tag, the
	// second one on a branch cut from the first hotfix, as hotfixes in
	// scope are (one of main would ship more than its fix, one cut from
	// the staging tag again would leave out the first fix).
	staging, ok := fake.Tag(fmt.Sprintf("v0.%d.0-staging.3", w.lines))
	if !ok {
		t.Fatalf("%s: no staging tag v0.%d.0-staging.3 after two staging trains", w.name, w.lines)
	}
	from := staging.Commit
	for i := range 2 {
		branch := fmt.Sprintf("hotfix/panic-%d", i+1)
		fake.AddBranch(branch, from)
		fix := fake.AddCommit(branch, "fix: panic", time.Time{})
		from = fix
		out.hotfix[i] = measure(t, fake, func() {
			res, err := st.Svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "panic", By: trainstack.Validator})
			if err != nil || res.Outcome != trains.CutStarted {
				t.Fatalf("%s hotfix %d: %v, %v", w.name, i+1, res.Outcome, err)
			}
			st.Svc.Wait()
			if tr := st.Train(res.Train.ID); tr.State != trains.Deployed {
				t.Fatalf("%s hotfix %d ended %s, want deployed", w.name, i+1, tr.State)
			}
		})
	}
	return out
}

// maxTrainRequests bounds the counted requests of one whole train.
const maxTrainRequests = 15

// maxHotfixOnHotfixRequests bounds a hotfix cut from the previous hotfix:
// its scope compares it with the staging tag and with that hotfix (one
// more request than a first hotfix), so that a fix that would leave the
// previous one out is caught.
const maxHotfixOnHotfixRequests = maxTrainRequests + 1

// TestTrainRequestsAtScale logs what whole trains cost in a small and a
// big repository and holds each at most 15 counted requests, cold or
// warm: a plan lists only the tags of the lines it needs (one request a
// line), and tag objects are read once and kept in the store.
func TestTrainRequestsAtScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w          world
		cold, warm int
	}{
		{small, maxTrainRequests, maxTrainRequests},
		{big, maxTrainRequests, maxTrainRequests},
		{bigOnePage, maxTrainRequests, maxTrainRequests},
	} {
		t.Run(tc.w.name, func(t *testing.T) {
			t.Parallel()
			c := trainCosts(t, tc.w)
			for _, k := range []struct {
				kind string
				c    [2]cost
			}{{"dev", c.dev}, {"staging", c.staging}, {"hotfix", c.hotfix}} {
				for i, when := range []string{"cold", "warm"} {
					limit := []int{tc.cold, tc.warm}[i]
					if k.kind == "hotfix" && when == "warm" {
						limit = maxHotfixOnHotfixRequests
					}
					t.Logf("%s %s %s: %v", tc.w.name, k.kind, when, k.c[i])
					if k.c[i].counted > limit {
						t.Errorf("%s %s train (%s) cost %d counted requests, want at most %d", tc.w.name, k.kind, when, k.c[i].counted, limit)
					}
				}
			}
		})
	}
}

// BenchmarkGitHubRequests reports, side by side for the small and the big
// world, the counted GitHub requests of a whole dev train, staging train
// and hotfix, cold (first after a start) and warm, and the latency of
// /train calendar (its candidates plan both tracks) on a warm service.
//
//	go test -run XXX -bench GitHubRequests -benchtime 20x ./deploy
func BenchmarkGitHubRequests(b *testing.B) {
	for _, w := range []world{small, big, bigOnePage} {
		b.Run("trains/"+w.name, func(b *testing.B) {
			var c costs
			for range b.N {
				c = trainCosts(b, w)
			}
			for _, k := range []struct {
				kind string
				c    [2]cost
			}{{"dev", c.dev}, {"staging", c.staging}, {"hotfix", c.hotfix}} {
				b.ReportMetric(float64(k.c[0].counted), k.kind+"-cold-req")
				b.ReportMetric(float64(k.c[1].counted), k.kind+"-warm-req")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
	for _, w := range []world{small, big, bigOnePage} {
		b.Run("calendar/"+w.name, func(b *testing.B) {
			clock := trainstest.NewClock(now)
			st := trainstack.New(b, now, trainstack.Options{Clock: clock})
			w.build(b, st.GH)
			ctx := b.Context()
			if _, err := st.Svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
				b.Fatal(err)
			}
			c0 := st.GH.Counted()
			b.ResetTimer()
			for range b.N {
				if _, err := st.Svc.Calendar(ctx, trains.CalendarOptions{Candidates: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(st.GH.Counted()-c0)/float64(b.N), "req/op")
		})
	}
}
