package trains_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/trainbot/trainbot/trains"
)

func TestParseUserRef(t *testing.T) {
	t.Parallel()
	sha40 := "0123456789abcdef0123456789abcdef01234567"
	ok := []struct {
		in   string
		kind trains.RefKind
		name string
	}{
		{"1a2b3c4", trains.SHARef, "1a2b3c4"},
		{"1A2B3C4D", trains.SHARef, "1a2b3c4d"},
		{sha40, trains.SHARef, sha40},
		{strings.ToUpper(sha40), trains.SHARef, sha40},
		{"cafe", trains.BranchRef, "cafe"}, // under 7 hex digits: a branch
		{"abc123", trains.BranchRef, "abc123"},
		{"main", trains.BranchRef, "main"},
		{"fix/panic", trains.BranchRef, "fix/panic"},
		{"release/1.2", trains.BranchRef, "release/1.2"},
		{"a.b", trains.BranchRef, "a.b"},
		{"x-y_z+1", trains.BranchRef, "x-y_z+1"},
		{"heads/x", trains.BranchRef, "heads/x"},
		{"a@b", trains.BranchRef, "a@b"},
		{"fix/café", trains.BranchRef, "fix/café"},
		{"修正", trains.BranchRef, "修正"},
		{"a.lockb", trains.BranchRef, "a.lockb"},
		{strings.Repeat("g", 255), trains.BranchRef, strings.Repeat("g", 255)},
	}
	for _, tt := range ok {
		got, err := trains.ParseUserRef(tt.in)
		if err != nil || got.Kind != tt.kind || got.Name != tt.name {
			t.Errorf("ParseUserRef(%q) = %+v, %v; want %s %q", tt.in, got, err, tt.kind, tt.name)
		}
	}

	bad := []struct {
		in, why string // why: in the error
	}{
		{"", "empty"},
		{strings.Repeat("a", 41), "at most 40"},
		{strings.Repeat("f", 64), "at most 40"},
		{"..", `".."`},
		{"a..b", `".."`},
		{"main/../../user", `".."`},
		{"../../../victim/private/commits/main", `".."`},
		{"-x", `starts with "-"`},
		{"--upload-pack=x", `starts with "-"`},
		{"%2e%2e", `"%"`},
		{"%2e%2e%2fvictim", `"%"`},
		{"a?b", `"?"`},
		{"a#b", `"#"`},
		{`a\b`, `"\\"`},
		{"a@{1}", `"@{"`},
		{"a b", "white space"},
		{"a\u00a0b", "white space"},
		{"a~1", `"~"`},
		{"a^", `"^"`},
		{"a:b", `":"`},
		{"a*", `"*"`},
		{"a[b", `"["`},
		{"a\x01b", "control character"},
		{"a\x7fb", "control character"},
		{"a\nb", "control character"},
		{"a\u0085b", "control character"},
		{"a\u202eb", "invisible character"},
		{"a\u200bb", "invisible character"},
		{"a\xffb", "UTF-8"},
		{"a/", `ends with "/"`},
		{"/a", `starts with "/"`},
		{"a.", `ends with "."`},
		{"a.lock", `".lock"`},
		{"a.lock/b", `".lock"`},
		{"a//b", `"//"`},
		{".a", `starts with "."`},
		{"a/.b", `starts with "."`},
		{"@", `"@" alone`},
		{"HEAD", "HEAD"},
		{"refs/heads/x", `without refs/heads/: "x"`},
		{"refs/tags/v1", "full ref name"},
		{strings.Repeat("g", 256), "at most 255"},
	}
	for _, tt := range bad {
		got, err := trains.ParseUserRef(tt.in)
		var re *trains.RefError
		if !errors.As(err, &re) {
			t.Errorf("ParseUserRef(%q) = %+v, %v; want a *RefError", tt.in, got, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.why) || !strings.Contains(msg, "is not a commit sha or a branch name") || !strings.Contains(msg, "Give a commit sha") {
			t.Errorf("ParseUserRef(%q) error %q lacks %q", tt.in, msg, tt.why)
		}
		if len(msg) > 400 {
			t.Errorf("ParseUserRef(%q) error is %d bytes long", tt.in, len(msg))
		}
	}
}

// FuzzParseUserRef: nothing accepted can change a URL's path or query, be
// read as an option, or hide a control character; a sha is 7–40 lower-case
// hex digits; parsing what was accepted gives it back.
func FuzzParseUserRef(f *testing.F) {
	for _, s := range []string{"main", "fix/panic", "1a2b3c4", "0123456789ABCDEF0123456789abcdef01234567", "..", "a..b",
		"../../../victim/private/commits/main", "%2e%2e", "%2e%2e%2fvictim", "main/../../user", "-x", "--upload-pack=x",
		"a\x01b", "a\x7fb", "a?b", "a#b", `a\b`, "a@{1}", "refs/heads/x", "fix/café", "a\u202eb", "", "@", "a.lock", ".",
		"a/./b", "a/%2e/b", "\x00", "a\xc0\xafb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := trains.ParseUserRef(s)
		if err != nil {
			return
		}
		n := ref.Name
		for _, bad := range []string{"..", "%", "?", "#", "\\", "@{", "//"} {
			if strings.Contains(n, bad) {
				t.Fatalf("ParseUserRef(%q) accepted %q, which has %q", s, n, bad)
			}
		}
		if strings.HasPrefix(n, "-") || strings.HasPrefix(n, "/") || strings.HasPrefix(n, ".") {
			t.Fatalf("ParseUserRef(%q) accepted %q", s, n)
		}
		if !utf8.ValidString(n) {
			t.Fatalf("ParseUserRef(%q) accepted invalid UTF-8", s)
		}
		for _, r := range n {
			if unicode.IsControl(r) || unicode.IsSpace(r) {
				t.Fatalf("ParseUserRef(%q) accepted %q, which has %U", s, n, r)
			}
		}
		for _, part := range strings.Split(n, "/") {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("ParseUserRef(%q) accepted %q, which has the path segment %q", s, n, part)
			}
		}
		switch ref.Kind {
		case trains.SHARef:
			if len(n) < 7 || len(n) > 40 || strings.Trim(n, "0123456789abcdef") != "" {
				t.Fatalf("ParseUserRef(%q) = sha %q", s, n)
			}
		case trains.BranchRef:
			if len(n) > trains.MaxBranchName || n != s {
				t.Fatalf("ParseUserRef(%q) = branch %q", s, n)
			}
		default:
			t.Fatalf("ParseUserRef(%q) kind %v", s, ref.Kind)
		}
		if again, err := trains.ParseUserRef(n); err != nil || again != ref {
			t.Fatalf("ParseUserRef(%q) = %+v, but again = %+v, %v", s, ref, again, err)
		}
	})
}
