// Package live tells trainbot whether a deployed tag is live: it asks
// Prometheus, through client_golang's HTTP API package, how many instances
// report the tag in the RFC's build_info gauge (TRAINBOT_PROMETHEUS_URL,
// TRAINBOT_VERIFY_QUERY). It implements trains.LiveVersions.
package live

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Placeholder stands for the tag in a verification query. It must sit
// inside a quoted PromQL string — a label value, as in DefaultQuery — where
// the tag is put escaped for that string (and for a regular expression,
// after =~ or !~).
const Placeholder = "{{tag}}"

// DefaultQuery counts the build_info series whose version label is the tag:
// one per instance that runs it (RFC 0001: build_info "surfaces the
// deployed sha + version").
const DefaultQuery = `count(build_info{version="` + Placeholder + `"})`

// Query is a PromQL verification query with Placeholder in it, checked by
// ParseQuery.
type Query struct {
	text  string
	holes []hole // where Placeholder stands, in order
}

// hole is one place of Placeholder in a query.
type hole struct {
	at    int  // byte offset of the Placeholder
	quote byte // the quote of the string it is in: '"' or '\''
	regex bool // the string is a regular expression (after =~ or !~)
}

// String returns the query as written, with Placeholder.
func (q Query) String() string { return q.text }

// ParseQuery checks a verification query: it must hold Placeholder, each
// time inside a "…" or '…' string (not a `…` raw string, which cannot
// escape a quote), with every string closed and its brackets balanced.
// The rest of the PromQL is Prometheus's to check, at the first query.
func ParseQuery(s string) (Query, error) {
	q := Query{text: strings.TrimSpace(s)}
	if q.text == "" {
		return Query{}, errors.New("is empty: write a PromQL query counting the instances that report the tag, e.g. " + DefaultQuery)
	}
	var stack []byte // open brackets
	pairs := map[byte]byte{')': '(', '}': '{', ']': '['}
	for i := 0; i < len(q.text); i++ {
		c := q.text[i]
		switch {
		case strings.HasPrefix(q.text[i:], Placeholder):
			return Query{}, fmt.Errorf("has %s outside a quoted string (at byte %d): put it in a label value, e.g. %s", Placeholder, i, DefaultQuery)
		case c == '"' || c == '\'' || c == '`':
			end, err := q.scanString(i)
			if err != nil {
				return Query{}, err
			}
			i = end
		case c == '(' || c == '{' || c == '[':
			stack = append(stack, c)
		case c == ')' || c == '}' || c == ']':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return Query{}, fmt.Errorf("has an unmatched %q at byte %d", c, i)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return Query{}, fmt.Errorf("leaves %q unclosed", stack[len(stack)-1])
	}
	if len(q.holes) == 0 {
		return Query{}, fmt.Errorf("does not hold %s, where trainbot puts the tag: e.g. %s", Placeholder, DefaultQuery)
	}
	return q, nil
}

// regexOp matches a regular-expression label matcher just before a string.
var regexOp = regexp.MustCompile(`[=!]~\s*$`)

// scanString reads the string that opens at byte i of the query, notes
// the places of Placeholder in it, and returns the offset of its closing
// quote.
func (q *Query) scanString(i int) (int, error) {
	quote := q.text[i]
	regex := regexOp.MatchString(q.text[:i])
	for j := i + 1; j < len(q.text); j++ {
		switch c := q.text[j]; {
		case c == quote:
			return j, nil
		case c == '\\' && quote != '`':
			j++ // the escaped character
		case c == '\n' && quote != '`':
			return 0, fmt.Errorf("has a line break inside the string opened at byte %d: close the string on its line", i)
		case strings.HasPrefix(q.text[j:], Placeholder):
			if quote == '`' {
				return 0, fmt.Errorf("has %s inside a `…` raw string, which cannot escape the tag: use \"…\" instead", Placeholder)
			}
			q.holes = append(q.holes, hole{at: j, quote: quote, regex: regex})
			j += len(Placeholder) - 1
		}
	}
	return 0, fmt.Errorf("leaves the string opened at byte %d unclosed", i)
}

// For returns the query for tag: Placeholder replaced by tag, escaped for
// the string it stands in (and first for a regular expression when that
// string is one), so that no tag can end the string or change the query.
func (q Query) For(tag string) string {
	var b strings.Builder
	last := 0
	for _, h := range q.holes {
		b.WriteString(q.text[last:h.at])
		v := tag
		if h.regex {
			v = regexp.QuoteMeta(v)
		}
		b.WriteString(escape(v, h.quote))
		last = h.at + len(Placeholder)
	}
	b.WriteString(q.text[last:])
	return b.String()
}

// escape writes s for the inside of a PromQL string quoted with quote:
// PromQL's strings take Go's escapes.
func escape(s string, quote byte) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
