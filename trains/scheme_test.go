package trains

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTag(t testing.TB, s string) Tag {
	t.Helper()
	tag, err := ParseTag(s)
	if err != nil {
		t.Fatalf("ParseTag(%q): %v", s, err)
	}
	return tag
}

// repoTags makes train tags from names; commit = "c-"+name and no date.
func repoTags(names ...string) []TrainTag {
	var rts []RepoTag
	for _, n := range names {
		rts = append(rts, RepoTag{Name: n, Commit: "c-" + n})
	}
	return TrainTags(rts)
}

func TestParseTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Tag
		ok   bool
	}{
		{"v0.5.0-dev.3", Tag{Line{0, 5, 0}, Dev, 3}, true},
		{"v0.5.0-staging.1", Tag{Line{0, 5, 0}, Staging, 1}, true},
		{"v1.20.300-hotfix.12", Tag{Line{1, 20, 300}, Hotfix, 12}, true},
		{"v0.5.0-dev.0", Tag{Line{0, 5, 0}, Dev, 0}, true},
		{"v1.2.3", Tag{}, false},
		{"sdk-v1.0.0", Tag{}, false},
		{"v0.5.0-rc.1", Tag{}, false},
		{"0.5.0-dev.1", Tag{}, false},
		{"v0.5-dev.1", Tag{}, false},
		{"v0.5.0-dev.01", Tag{}, false},
		{"v0.5.0-dev", Tag{}, false},
		{"v0.5.0-dev.1.2", Tag{}, false},
		{"v0.5.0-dev.x", Tag{}, false},
		{"v0.5.0-dev.1+build", Tag{}, false},
		{"v00.5.0-dev.1", Tag{}, false},
		{"V0.5.0-dev.1", Tag{}, false},
		{"v0.5.0-Dev.1", Tag{}, false},
		{"", Tag{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTag(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseTag(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if !tt.ok {
				if !errors.Is(err, ErrNotTrainTag) {
					t.Errorf("error %v is not ErrNotTrainTag", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("ParseTag(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestTagCompareNumeric(t *testing.T) {
	t.Parallel()
	if mustTag(t, "v0.5.0-dev.10").Compare(mustTag(t, "v0.5.0-dev.9")) <= 0 {
		t.Error("dev.10 must be greater than dev.9")
	}
	if mustTag(t, "v0.10.0-dev.1").Compare(mustTag(t, "v0.9.0-dev.99")) <= 0 {
		t.Error("0.10.0 must be greater than 0.9.0")
	}
}

func TestNextTags(t *testing.T) {
	t.Parallel()
	initial := Line{0, 1, 0}
	tests := []struct {
		name    string
		tags    []string
		started Line
		wantDev string
		wantHF  string // "" when a hotfix is refused
	}{
		{name: "dev.9 to dev.10", tags: []string{"v0.5.0-dev.8", "v0.5.0-dev.9"}, wantDev: "v0.5.0-dev.10"},
		{name: "two lines: highest line wins", tags: []string{"v0.5.0-dev.7", "v0.6.0-dev.1", "v0.5.0-staging.2"},
			wantDev: "v0.6.0-dev.2", wantHF: "v0.5.0-hotfix.1"},
		{name: "noise ignored", tags: []string{"v1.2.3", "sdk-v1.0.0", "v0.5.0-rc.1", "v9.9.9", "v0.5.0-dev.2"}, wantDev: "v0.5.0-dev.3"},
		{name: "no train tags: initial line", tags: []string{"v1.2.3", "sdk-v1.0.0"}, wantDev: "v0.1.0-dev.1"},
		{name: "nothing at all", wantDev: "v0.1.0-dev.1"},
		{name: "started line above tags", tags: []string{"v0.5.0-dev.4"}, started: Line{0, 6, 0}, wantDev: "v0.6.0-dev.1"},
		{name: "started line below tags is moot", tags: []string{"v0.5.0-dev.4"}, started: Line{0, 4, 0}, wantDev: "v0.5.0-dev.5"},
		{name: "hotfix on newest staging line", tags: []string{"v0.4.0-staging.3", "v0.5.0-staging.1", "v0.5.0-hotfix.1", "v0.6.0-dev.2"},
			wantDev: "v0.6.0-dev.3", wantHF: "v0.5.0-hotfix.2"},
		{name: "hotfix numbering is per line", tags: []string{"v0.4.0-hotfix.5", "v0.5.0-staging.1"}, wantDev: "v0.5.0-dev.1", wantHF: "v0.5.0-hotfix.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := repoTags(tt.tags...)
			line := CurrentLine(tags, initial, tt.started)
			if got := NextDevTag(tags, line).String(); got != tt.wantDev {
				t.Errorf("next dev = %s, want %s", got, tt.wantDev)
			}
			hf, err := NextHotfixTag(tags)
			if tt.wantHF == "" {
				if !errors.Is(err, ErrNoStagingTag) {
					t.Errorf("next hotfix = %v, %v; want ErrNoStagingTag", hf, err)
				}
			} else if err != nil || hf.String() != tt.wantHF {
				t.Errorf("next hotfix = %v, %v; want %s", hf, err, tt.wantHF)
			}
		})
	}
}

func TestNextStagingKeepsPromotedLine(t *testing.T) {
	t.Parallel()
	tags := repoTags("v0.5.0-dev.4", "v0.5.0-staging.1", "v0.6.0-dev.1", "v0.6.0-dev.2", "v0.4.0-staging.7")
	got, err := NextStagingTag(tags, mustTag(t, "v0.5.0-dev.4"))
	if err != nil || got.String() != "v0.5.0-staging.2" {
		t.Errorf("promote v0.5.0-dev.4 = %v, %v; want v0.5.0-staging.2", got, err)
	}
	got, err = NextStagingTag(tags, mustTag(t, "v0.6.0-dev.1"))
	if err != nil || got.String() != "v0.6.0-staging.1" {
		t.Errorf("promote v0.6.0-dev.1 = %v, %v; want v0.6.0-staging.1", got, err)
	}
	if _, err := NextStagingTag(tags, mustTag(t, "v0.5.0-hotfix.1")); err == nil {
		t.Error("promoting a hotfix tag must be refused")
	}
}

func TestValidateNewLine(t *testing.T) {
	t.Parallel()
	cur := Line{0, 5, 0}
	for _, tt := range []struct {
		line string
		ok   bool
	}{{"0.6.0", true}, {"1.0.0", true}, {"0.5.1", true}, {"0.5.0", false}, {"0.4.9", false}, {"0.0.1", false}} {
		err := ValidateNewLine(cur, mustLine(t, tt.line))
		if (err == nil) != tt.ok {
			t.Errorf("ValidateNewLine(%s, %s) = %v, want ok=%v", cur, tt.line, err, tt.ok)
		}
	}
}

func mustLine(t testing.TB, s string) Line {
	t.Helper()
	l, err := ParseLine(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseLine(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0.6.0", "v0.6.0", "10.20.30"} {
		if _, err := ParseLine(s); err != nil {
			t.Errorf("ParseLine(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "0.6", "0.6.0-dev.1", "a.b.c", "01.2.3", "0.6.0+x"} {
		if _, err := ParseLine(s); err == nil {
			t.Errorf("ParseLine(%q) accepted", s)
		}
	}
}

func TestStagingCandidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 9, 14, 0, 0, 0, time.UTC)
	soak := 168 * time.Hour
	tag := func(name, commit string, age time.Duration) TrainTag {
		return TrainTag{Tag: mustTag(t, name), Commit: commit, Date: now.Add(-age)}
	}
	tests := []struct {
		name string
		tags []TrainTag
		want string // "" = nothing to ship
	}{
		{name: "soaked exactly 168h", tags: []TrainTag{tag("v0.5.0-dev.1", "a", 168*time.Hour)}, want: "v0.5.0-dev.1"},
		{name: "one second short of 168h", tags: []TrainTag{tag("v0.5.0-dev.1", "a", 168*time.Hour-time.Second)}},
		{name: "newest soaked wins, unsoaked ignored", tags: []TrainTag{
			tag("v0.5.0-dev.1", "a", 15*24*time.Hour), tag("v0.5.0-dev.2", "b", 8*24*time.Hour), tag("v0.5.0-dev.3", "c", 24*time.Hour)},
			want: "v0.5.0-dev.2"},
		{name: "already promoted", tags: []TrainTag{
			tag("v0.5.0-dev.2", "b", 8*24*time.Hour), tag("v0.5.0-staging.1", "b", time.Hour)}},
		{name: "newer than the promoted one", tags: []TrainTag{
			tag("v0.5.0-dev.1", "a", 22*24*time.Hour), tag("v0.5.0-staging.1", "a", 14*24*time.Hour),
			tag("v0.5.0-dev.2", "b", 15*24*time.Hour), tag("v0.5.0-dev.3", "c", time.Hour)},
			want: "v0.5.0-dev.2"},
		{name: "older than the promoted one", tags: []TrainTag{
			tag("v0.5.0-dev.1", "a", 22*24*time.Hour), tag("v0.5.0-dev.2", "b", 21*24*time.Hour), tag("v0.5.0-staging.1", "b", 14*24*time.Hour)}},
		{name: "unknown date has not soaked", tags: []TrainTag{{Tag: mustTag(t, "v0.5.0-dev.1"), Commit: "a"}}},
		{name: "on a new line", tags: []TrainTag{
			tag("v0.5.0-dev.9", "a", 30*24*time.Hour), tag("v0.5.0-staging.1", "a", 20*24*time.Hour), tag("v0.6.0-dev.1", "b", 10*24*time.Hour)},
			want: "v0.6.0-dev.1"},
		{name: "no dev tags", tags: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := StagingCandidate(tt.tags, now, soak)
			if tt.want == "" {
				if ok {
					t.Errorf("candidate = %s, want nothing to ship", got.Tag)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Errorf("candidate = %v (%v), want %s", got.Tag, ok, tt.want)
			}
		})
	}
}

// ancestry is a commit graph: parents[c] lists c's parents.
type ancestry struct {
	parents map[string][]string
	err     error
}

func (a ancestry) Contains(_ context.Context, anc, desc string) (bool, error) {
	if a.err != nil {
		return false, a.err
	}
	if anc == desc {
		return true, nil
	}
	for _, p := range a.parents[desc] {
		if ok, _ := a.Contains(context.Background(), anc, p); ok {
			return true, nil
		}
	}
	return false, nil
}

func TestMissingHotfixes(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// main: a - b - c - d ; hotfix commit h1 merged into c; h2 on a side branch.
	graph := ancestry{parents: map[string][]string{"b": {"a"}, "c": {"b", "h1"}, "d": {"c"}, "h1": {"a"}, "h2": {"a"}}}
	tags := []TrainTag{
		{Tag: mustTag(t, "v0.5.0-staging.1"), Commit: "a", Date: base},
		{Tag: mustTag(t, "v0.5.0-hotfix.1"), Commit: "h1", Date: base.Add(time.Hour)},
		{Tag: mustTag(t, "v0.5.0-hotfix.2"), Commit: "h2", Date: base.Add(2 * time.Hour)},
		{Tag: mustTag(t, "v0.4.0-hotfix.9"), Commit: "old", Date: base.Add(-time.Hour)}, // before the staging tag
	}
	ctx := t.Context()
	missing, err := MissingHotfixes(ctx, tags, "d", graph)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range missing {
		names = append(names, m.String())
	}
	if diff := cmp.Diff([]string{"v0.5.0-hotfix.2"}, names); diff != "" {
		t.Errorf("missing hotfixes (-want +got):\n%s", diff)
	}
	if m, err := MissingHotfixes(ctx, tags, "b", graph); err != nil || len(m) != 2 {
		t.Errorf("b contains no hotfix: got %v, %v", m, err)
	}
	boom := fmt.Errorf("github down")
	if _, err := MissingHotfixes(ctx, tags, "d", ancestry{err: boom}); !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the port's error", err)
	}
}
