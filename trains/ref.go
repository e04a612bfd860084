package trains

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RefKind says what a UserRef names.
type RefKind int

const (
	// SHARef is a commit named by 7 to 40 hex digits.
	SHARef RefKind = iota + 1
	// BranchRef is a branch named as git allows a branch to be named.
	BranchRef
)

// String is "sha" or "branch".
func (k RefKind) String() string {
	switch k {
	case SHARef:
		return "sha"
	case BranchRef:
		return "branch"
	}
	return "unknown"
}

// UserRef is a commit or a branch of the released repository as a user
// named it in `/train hotfix <sha|branch>`, checked by ParseUserRef: safe
// to put in a request to the repository (once escaped as any path
// parameter is).
type UserRef struct {
	Kind RefKind
	// Name is the sha, in lower case, or the branch name.
	Name string
}

// MaxBranchName is the longest branch name ParseUserRef accepts, in bytes.
const MaxBranchName = 255

// RefError says why a ref a user typed was refused and how to write one.
type RefError struct {
	// Ref is what the user typed.
	Ref string
	// Why is what is wrong with it.
	Why string
}

// Error tells the user what is wrong and how to write a ref.
func (e *RefError) Error() string {
	return fmt.Sprintf("%s is not a commit sha or a branch name: %s. Give a commit sha of 7 to 40 hex digits (e.g. 1a2b3c4) "+
		"or the name of a branch of the repository (e.g. main or fix/panic).", quoteShort(e.Ref), e.Why)
}

// ParseUserRef checks what a user typed to name a commit or a branch of the
// released repository (SPEC §6), before any request is made with it:
//
//   - 7 to 40 hex digits are a commit sha, lower-cased. A longer run of hex
//     digits is refused: it is neither a sha (GitHub's are 40) nor a
//     branch we accept. Fewer than 7 hex digits (e.g. "cafe") are a branch
//     name.
//   - Anything else is a branch name under git's check-ref-format rules
//     for a branch: no "..", "@{", space, "~", "^", ":", "*", "?", "[",
//     "\", control character or DEL; not starting with "-" or "/"; not
//     ending in "/" or "."; no "//"; no part starting with "." or ending in
//     ".lock"; not "@" alone; at most MaxBranchName bytes. Beyond git,
//     "%" and "#" are refused (they change a URL), so are invisible and
//     white-space characters other than a plain space, and "HEAD".
//     Other Unicode letters and signs are accepted, as git accepts them.
//   - A full ref name, "refs/heads/<b>", is refused, not read as the
//     branch <b>: the reply says to write <b>. (A branch may itself be
//     named refs/…, so guessing could name the wrong one.)
//
// The error is a *RefError.
func ParseUserRef(s string) (UserRef, error) {
	refuse := func(format string, args ...any) (UserRef, error) {
		return UserRef{}, &RefError{Ref: s, Why: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return refuse("it is empty")
	}
	if !utf8.ValidString(s) {
		return refuse("it is not valid UTF-8 text")
	}
	if isHex(s) && len(s) >= 7 {
		if len(s) > 40 {
			return refuse("it has %d hex digits, and a commit sha has at most 40", len(s))
		}
		return UserRef{Kind: SHARef, Name: strings.ToLower(s)}, nil
	}
	if why := branchProblem(s); why != "" {
		return refuse("%s", why)
	}
	return UserRef{Kind: BranchRef, Name: s}, nil
}

// branchProblem says what makes s not a branch name we accept, "" when
// nothing does.
func branchProblem(s string) string {
	if len(s) > MaxBranchName {
		return fmt.Sprintf("it is %d bytes long, and a branch name may have at most %d", len(s), MaxBranchName)
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || unicode.IsControl(r):
			return "it has a control character"
		case r == ' ' || unicode.IsSpace(r):
			return "it has white space"
		case !unicode.IsGraphic(r):
			return fmt.Sprintf("it has an invisible character (%U)", r)
		case strings.ContainsRune(`~^:*?[\`, r):
			return fmt.Sprintf("it has %q, which git does not allow in a branch name", string(r))
		case r == '%' || r == '#':
			return fmt.Sprintf("it has %q, which trainbot does not accept in a branch name", string(r))
		}
	}
	if b, ok := strings.CutPrefix(s, "refs/heads/"); ok && b != "" {
		return "write the branch name alone, without refs/heads/: " + quoteShort(b)
	}
	switch {
	case strings.HasPrefix(s, "refs/"):
		return "it is a full ref name; write a branch name alone"
	case strings.Contains(s, ".."):
		return `it has ".."`
	case strings.Contains(s, "@{"):
		return `it has "@{"`
	case strings.HasPrefix(s, "-"):
		return `it starts with "-"`
	case strings.HasPrefix(s, "/"):
		return `it starts with "/"`
	case strings.HasSuffix(s, "/"):
		return `it ends with "/"`
	case strings.HasSuffix(s, "."):
		return `it ends with "."`
	case strings.Contains(s, "//"):
		return `it has "//"`
	case s == "@":
		return `"@" alone is not a branch name`
	case s == "HEAD":
		return "HEAD is not a branch; name the branch"
	}
	for part := range strings.SplitSeq(s, "/") {
		switch {
		case strings.HasPrefix(part, "."):
			return `a part of it starts with "."`
		case strings.HasSuffix(part, ".lock"):
			return `a part of it ends with ".lock"`
		}
	}
	return ""
}

// isHex reports whether s is only hex digits (and not empty).
func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// quoteShort quotes s for a message, cut to about 60 bytes.
func quoteShort(s string) string {
	const limit = 60
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}
