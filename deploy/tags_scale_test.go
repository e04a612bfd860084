package deploy

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
)

// TestTagsPeelOnlyTrainTags: annotated tags that are not train tags (SDK
// releases, release candidates) are never read, and are not listed.
func TestTagsPeelOnlyTrainTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetRefsPageSize(100)
	sha := e.fake.Head("main")
	for i := range 700 {
		e.fake.AddAnnotatedTag(fmt.Sprintf("v1.%d.0", i), sha, "sdk release", start)
	}
	e.fake.AddAnnotatedTag("v0.5.0-rc.1", sha, "not a train", start)
	e.fake.AddAnnotatedTag("v0.5.0-dev.1", sha, "train", start.Add(-time.Hour))
	e.fake.AddTag("v0.5.0-dev.2", sha)

	got, err := e.gh.Tags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("GET", "git/tags/"); n != 1 {
		t.Errorf("read %d tag objects, want 1 (the one annotated train tag)", n)
	}
	if len(got) != 2 || got[0].Name != "v0.5.0-dev.1" || got[0].Commit != sha || !got[0].Date.Equal(start.Add(-time.Hour)) || got[1].Name != "v0.5.0-dev.2" {
		t.Errorf("Tags listed %d tags (first %+v), want the two train tags", len(got), got[0])
	}
}

// TestTagObjectsDoNotFloodTheListingCache: after reading hundreds of tag
// objects, listing again is still answered 304 on every page.
func TestTagObjectsDoNotFloodTheListingCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetRefsPageSize(100)
	shas := e.fake.AddCommits("main", 10)
	for i := range 3000 {
		name := fmt.Sprintf("v2.%d.0-rc.1", i) // not train tags
		if i%10 == 0 {
			name = fmt.Sprintf("v0.%d.0-dev.1", i/10)
			e.fake.AddAnnotatedTag(name, shas[i%10], "train", start)
			continue
		}
		e.fake.AddTag(name, shas[i%10])
	}
	if _, err := e.gh.Tags(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("GET", "git/tags/"); n != 300 {
		t.Errorf("read %d tag objects, want 300", n)
	}
	before := e.fake.Counted()
	if _, err := e.gh.Tags(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Counted() - before; n != 0 {
		t.Errorf("listing again cost %d counted requests, want 0 (every page 304)", n)
	}
}

// TestHeadAgainIsFree: reading an unchanged release branch again costs
// no counted request (the ref answers 304, the commit is remembered).
func TestHeadAgainIsFree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddCommits("main", 3)
	if _, err := e.gh.Head(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := e.fake.Counted()
	h, err := e.gh.Head(t.Context())
	if err != nil || h.SHA != e.fake.Head("main") {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	if n := e.fake.Counted() - before; n != 0 {
		t.Errorf("reading the head again cost %d counted requests, want 0", n)
	}
}

// TestCompareBeyond250: past 250 commits, Compare returns the newest 250
// with the total, in one request.
func TestCompareBeyond250(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.fake.Head("main")
	shas := e.fake.AddCommits("main", 600)
	e.fake.ResetRequests()
	got, err := e.gh.Compare(t.Context(), base, shas[599])
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 600 || len(got.Commits) != 250 || got.Commits[0].SHA != shas[350] || got.Commits[249].SHA != shas[599] {
		t.Errorf("Compare: %d of %d commits, %.7s…%.7s; want the newest 250 of 600", len(got.Commits), got.Total, got.Commits[0].SHA, got.Commits[len(got.Commits)-1].SHA)
	}
	if n := e.fake.Counted(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// memTagObjects is a trains.TagObjectCache in memory that counts its calls.
type memTagObjects struct {
	mu         sync.Mutex
	m          map[string]trains.TagObject
	gets, puts int
}

func (c *memTagObjects) TagObjects(_ context.Context, shas []string) (map[string]trains.TagObject, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	out := map[string]trains.TagObject{}
	for _, s := range shas {
		if o, ok := c.m[s]; ok {
			out[s] = o
		}
	}
	return out, nil
}

func (c *memTagObjects) PutTagObjects(_ context.Context, objs map[string]trains.TagObject) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	maps.Copy(c.m, objs)
	return nil
}

// TestTagObjectsKeptAcrossRestarts: a Repo started again over the same
// cache reads no tag object from GitHub, and asks the cache once per
// listing.
func TestTagObjectsKeptAcrossRestarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shas := e.fake.AddCommits("main", 5)
	for i, sha := range shas {
		e.fake.AddAnnotatedTag(fmt.Sprintf("v0.5.0-dev.%d", i+1), sha, "train", start.Add(time.Duration(i)*time.Hour))
	}
	cache := &memTagObjects{m: map[string]trains.TagObject{}}
	first, err := New(e.fake.Client(), Config{Owner: e.fake.Owner(), Repo: e.fake.Repo()}, WithTagObjectCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	want, err := first.Tags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("GET", "git/tags/"); n != 5 || len(cache.m) != 5 || cache.puts != 1 {
		t.Fatalf("first start: %d tag objects read, %d kept in %d puts; want 5, 5, 1", n, len(cache.m), cache.puts)
	}

	again, err := New(e.fake.Client(), Config{Owner: e.fake.Owner(), Repo: e.fake.Repo()}, WithTagObjectCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.ResetRequests()
	cache.gets = 0
	got, err := again.Tags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags after a restart (-want +got):\n%s", diff)
	}
	if n := e.fake.Count("GET", "git/tags/"); n != 0 || cache.gets != 1 {
		t.Errorf("after a restart: %d tag objects read from GitHub, %d cache reads; want 0 and 1", n, cache.gets)
	}
}

// TestLightweightTagDateAgainIsCheap: a lightweight tag's date is its
// commit's, read once; asking again costs only the ref's 304.
func TestLightweightTagDateAgainIsCheap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sha := e.fake.AddCommit("main", "feat: x", start.Add(-48*time.Hour))
	e.fake.AddTag("v0.1.0-dev.1", sha)
	if _, err := e.gh.TagDate(t.Context(), "v0.1.0-dev.1"); err != nil {
		t.Fatal(err)
	}
	before := e.fake.Counted()
	got, err := e.gh.TagDate(t.Context(), "v0.1.0-dev.1")
	if err != nil || !got.Equal(start.Add(-48*time.Hour)) {
		t.Fatalf("TagDate = %v, %v", got, err)
	}
	if n := e.fake.Counted() - before; n != 0 {
		t.Errorf("asking again cost %d counted requests, want 0", n)
	}
}
