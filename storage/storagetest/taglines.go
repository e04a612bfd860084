package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
)

// RunTagLines checks a trains.TagLineIndex: newIndex makes a fresh, empty
// one; reopen, when not nil, returns x as a restarted trainbot would see
// it (same data, new process).
func RunTagLines(t *testing.T, newIndex func(t testing.TB) trains.TagLineIndex, reopen func(t testing.TB, x trains.TagLineIndex) trains.TagLineIndex) {
	t.Helper()
	t.Run("TagLines", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		x := newIndex(t)
		got, err := x.TagLines(ctx)
		if err != nil || len(got.Lines) != 0 || !got.Listed.IsZero() {
			t.Fatalf("empty index: %+v, %v", got, err)
		}
		if err := x.AddTagLines(ctx, nil, time.Time{}); err != nil {
			t.Fatalf("adding nothing: %v", err)
		}
		l := func(minor uint64) trains.Line { return trains.Line{Minor: minor} }
		// lines learned before any full listing leave Listed zero.
		if err := x.AddTagLines(ctx, []trains.Line{l(5)}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got, err := x.TagLines(ctx); err != nil || !got.Listed.IsZero() || !slices.Equal(got.Lines, []trains.Line{l(5)}) {
			t.Fatalf("after adding 0.5.0 without a listing: %+v, %v", got, err)
		}
		listed := T0.Add(90*time.Minute + 250*time.Millisecond)
		if err := x.AddTagLines(ctx, []trains.Line{l(4), l(5), {Major: 1, Minor: 10, Patch: 2}}, listed); err != nil {
			t.Fatal(err)
		}
		// an earlier listing (a slower replica's) keeps the later time.
		if err := x.AddTagLines(ctx, []trains.Line{l(3)}, listed.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		want := trains.TagLines{Lines: []trains.Line{l(3), l(4), l(5), {Major: 1, Minor: 10, Patch: 2}}, Listed: listed}
		check := func(what string, x trains.TagLineIndex) {
			t.Helper()
			got, err := x.TagLines(ctx)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got.Lines, trains.Line.Compare)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", what, diff)
			}
		}
		check("kept lines", x)
		if reopen != nil {
			check("after a restart", reopen(t, x))
		}
	})
}
