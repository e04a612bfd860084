package trains

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText makes text a person typed fit to store and to show anywhere:
// line breaks and tabs become spaces, other control characters (NUL, C0,
// DEL, C1) and the bidirectional overrides that can make text read
// differently from what it holds (U+202A–U+202E, U+2066–U+2069) are
// removed, as are bytes that are not UTF-8; runs of spaces are folded, and
// the ends trimmed. RFC 5545 forbids control characters in the calendar
// feed too.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Truncate cuts s to at most n runes (n ≥ 1), ending it with "…" when it
// is cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
