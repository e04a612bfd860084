package commands

import (
	"regexp"
	"strings"
	"unicode"
)

// token is one word of a command and where it starts in the text.
type token struct {
	text string
	pos  int
}

// tokenize splits text on white space, remembering where each word starts
// so that free text (a reason) can be taken verbatim from the rest.
func tokenize(text string) []token {
	var toks []token
	start := -1
	for i, r := range text {
		switch {
		case unicode.IsSpace(r) && start >= 0:
			toks = append(toks, token{text[start:i], start})
			start = -1
		case !unicode.IsSpace(r) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		toks = append(toks, token{text[start:], start})
	}
	return toks
}

var (
	mentionRe = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
	// plainMentionRe accepts a bare user id, as the console or a button may send.
	plainMentionRe = regexp.MustCompile(`^@?([UW][A-Z0-9]+)$`)
	slackTokenRe   = regexp.MustCompile(`<(?:[@#!]|[A-Za-z][A-Za-z0-9+.-]*:)[^<>|\s]*(?:\|[^<>]*)?>`)
)

// parseMention returns the user id of a mention written <@U123|name>,
// <@U123>, or (in the console) U123 or @U123.
func parseMention(s string) (string, bool) {
	if m := mentionRe.FindStringSubmatch(s); m != nil {
		return m[1], true
	}
	if m := plainMentionRe.FindStringSubmatch(s); m != nil {
		return m[1], true
	}
	return "", false
}

// humanText turns text Slack sent (escaping on) into what the user meant
// to write, with no Slack markup left in it: <@U01|ana> → @ana, <!channel> →
// @channel, <https://x|y> → y (https://x), and &amp; &lt; &gt; unescaped.
// Renderers escape it again, so it can ping nobody and link nowhere.
func humanText(s string) string {
	s = slackTokenRe.ReplaceAllStringFunc(s, func(tok string) string {
		inner := tok[1 : len(tok)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if hasLabel {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return target
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!subteam^"):
			if hasLabel {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return "@group"
		case strings.HasPrefix(target, "!date^"):
			if hasLabel {
				return label
			}
			return "a date"
		case strings.HasPrefix(target, "!"):
			return "@" + strings.TrimPrefix(target, "!")
		case hasLabel && label != target:
			return label + " (" + target + ")"
		}
		return target
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// rest returns the text from token i on, verbatim, trimmed.
func rest(text string, toks []token, i int) string {
	if i >= len(toks) {
		return ""
	}
	return strings.TrimSpace(text[toks[i].pos:])
}
