package storagetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
)

// RunTagObjects checks a trains.TagObjectCache: newCache makes a fresh,
// empty one; reopen, when not nil, returns c as a restarted trainbot
// would see it (same data, new process), so the test can check that what
// was kept survives.
func RunTagObjects(t *testing.T, newCache func(t testing.TB) trains.TagObjectCache, reopen func(t testing.TB, c trains.TagObjectCache) trains.TagObjectCache) {
	t.Helper()
	t.Run("TagObjects", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		c := newCache(t)
		got, err := c.TagObjects(ctx, []string{"a1", "b2"})
		if err != nil || len(got) != 0 {
			t.Fatalf("empty cache: %v, %v", got, err)
		}
		if got, err := c.TagObjects(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("no shas: %v, %v", got, err)
		}
		when := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
		objs := map[string]trains.TagObject{
			"a1": {Commit: "c1", Date: when},
			"b2": {Commit: "c2"}, // a tag object without a date
		}
		if err := c.PutTagObjects(ctx, objs); err != nil {
			t.Fatal(err)
		}
		if err := c.PutTagObjects(ctx, nil); err != nil {
			t.Fatalf("putting none: %v", err)
		}
		if err := c.PutTagObjects(ctx, map[string]trains.TagObject{"d4": {Commit: "c4", Date: when}}); err != nil {
			t.Fatal(err)
		}
		want := map[string]trains.TagObject{"a1": objs["a1"], "b2": objs["b2"]}
		got, err = c.TagObjects(ctx, []string{"a1", "b2", "zz"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("kept tag objects (-want +got):\n%s", diff)
		}
		if reopen == nil {
			return
		}
		got, err = reopen(t, c).TagObjects(ctx, []string{"a1", "b2", "d4"})
		want["d4"] = trains.TagObject{Commit: "c4", Date: when}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after a restart (-want +got):\n%s", diff)
		}
	})
}
