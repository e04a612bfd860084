package trains

import (
	"github.com/Masterminds/semver/v3"
	"testing"
	"time"
)

// The seed corpus of each fuzz test runs in every `go test`; run one for
// longer with e.g. `go test -fuzz FuzzParseTag ./trains`.

func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"v0.5.0-dev.3", "v0.5.0-staging.10", "v1.2.3-hotfix.1", "v1.2.3", "sdk-v1.0.0",
		"v0.5.0-rc.1", "v0.5.0-dev.01", "v0.5.0-dev.1+b", "v18446744073709551615.0.0-dev.18446744073709551615", "v0.0.0-dev.99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := ParseTag(s)
		if err != nil {
			return
		}
		// parse∘format is the identity on train tags.
		if got := tag.String(); got != s {
			t.Fatalf("ParseTag(%q).String() = %q", s, got)
		}
		again, err := ParseTag(tag.String())
		if err != nil || again != tag {
			t.Fatalf("format∘parse: %v, %v", again, err)
		}
	})
}

func FuzzFormatParse(f *testing.F) {
	f.Add(uint64(0), uint64(5), uint64(0), uint8(0), uint64(3))
	f.Add(uint64(1<<63), uint64(0), uint64(1), uint8(2), uint64(1<<64-1))
	f.Fuzz(func(t *testing.T, major, minor, patch uint64, track uint8, n uint64) {
		tag := Tag{Line: Line{major, minor, patch}, Track: Tracks[int(track)%len(Tracks)], N: n}
		got, err := ParseTag(tag.String())
		if err != nil || got != tag {
			t.Fatalf("ParseTag(%q) = %+v, %v; want %+v", tag.String(), got, err, tag)
		}
	})
}

// FuzzNextTag: the next tag of a track is greater than every tag of that
// track on its line, and its line is the one asked for.
func FuzzNextTag(f *testing.F) {
	f.Add([]byte{0, 5, 0, 0, 9, 0, 5, 0, 1, 1}, uint8(0))
	f.Add([]byte{1, 2, 3, 2, 200}, uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, pick uint8) {
		var tags []TrainTag
		for i := 0; i+4 < len(raw); i += 5 {
			tags = append(tags, TrainTag{Tag: Tag{
				Line:  Line{uint64(raw[i] % 3), uint64(raw[i+1] % 3), uint64(raw[i+2] % 3)},
				Track: Tracks[int(raw[i+3])%len(Tracks)],
				N:     uint64(raw[i+4]),
			}})
		}
		line := CurrentLine(tags, Line{0, 1, 0}, Line{})
		check := func(next Tag) {
			if next.Line != line && next.Track == Dev {
				t.Fatalf("next dev %s not on current line %s", next, line)
			}
			for _, tt := range tags {
				if tt.Track == next.Track && tt.Line == next.Line && tt.Compare(next) >= 0 {
					t.Fatalf("next %s is not greater than existing %s", next, tt.Tag)
				}
			}
		}
		check(NextDevTag(tags, line))
		if hf, err := NextHotfixTag(tags); err == nil {
			check(hf)
		}
		if len(tags) > 0 {
			promoted := tags[int(pick)%len(tags)].Tag
			promoted.Track = Dev
			st, err := NextStagingTag(tags, promoted)
			if err != nil || st.Line != promoted.Line {
				t.Fatalf("staging for %s = %s, %v", promoted, st, err)
			}
			check(st)
		}
	})
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"Tue 14:00", "6h", "2d12h", "2026-12-02T18:00Z", "2026-12-02 18:00", "0.6.0", "dev-2026-12-01",
		"hotfix-2026-12-01-2", "9999999999h", "-1h", "1d-1h", "tuesday 99:99", "2026-02-30 10:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// None of these may panic; what they accept must be sane.
		if st, err := ParseSlotTime(s); err == nil {
			if st.Hour > 23 || st.Minute > 59 {
				t.Fatalf("ParseSlotTime(%q) = %+v", s, st)
			}
			if again, err := ParseSlotTime(st.String()); err != nil || again != st {
				t.Fatalf("slot round trip %q: %v %v", s, again, err)
			}
		}
		if d, err := ParseDuration(s); err == nil && (d <= 0 || d > MaxDuration) {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
		if tm, err := ParseTime(s); err == nil && tm.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not UTC", s)
		}
		if l, err := ParseLine(s); err == nil {
			if again, err := ParseLine(l.String()); err != nil || again != l {
				t.Fatalf("line round trip %q", s)
			}
		}
		_, _, _, _ = ParseTrainID(s)
		_, _ = ParseTrack(s)
	})
}

// FuzzCompareMatchesSemver: Tag.Compare orders train tags exactly as
// Masterminds/semver does (SPEC §1 names it as the reference).
func FuzzCompareMatchesSemver(f *testing.F) {
	f.Add(uint8(0), uint8(5), uint8(0), uint8(0), uint64(9), uint8(0), uint8(5), uint8(0), uint8(0), uint64(10))
	f.Add(uint8(0), uint8(5), uint8(0), uint8(1), uint64(1), uint8(0), uint8(5), uint8(0), uint8(2), uint64(1))
	f.Fuzz(func(t *testing.T, a1, a2, a3, at uint8, an uint64, b1, b2, b3, bt uint8, bn uint64) {
		a := Tag{Line{uint64(a1 % 4), uint64(a2 % 4), uint64(a3 % 4)}, Tracks[int(at)%3], an}
		b := Tag{Line{uint64(b1 % 4), uint64(b2 % 4), uint64(b3 % 4)}, Tracks[int(bt)%3], bn}
		va := semver.MustParse(a.String())
		vb := semver.MustParse(b.String())
		if got, want := a.Compare(b), va.Compare(vb); got != want {
			t.Fatalf("%s vs %s: Compare = %d, semver = %d", a, b, got, want)
		}
	})
}
