package commands

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// changesPerSection is how many commits one section lists, which keeps
// each under Slack's 3,000 characters.
const changesPerSection = 20

func runChanges(ctx context.Context, c *call) (trains.Message, error) {
	if len(c.args) != 1 {
		return trains.Message{}, c.usage("Give one train tag, e.g. `changes v0.5.0-staging.1`.")
	}
	ch, err := c.h.deps.Service.Changes(ctx, c.arg(0))
	if err != nil {
		return trains.Message{}, err
	}
	if c.given("markdown") {
		m := trains.Say(trains.T("What changed in " + ch.Tag.String() + ", as Markdown for a post-incident review:"))
		for _, part := range cutLines(changesMarkdown(ch), markdownPart) {
			m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Preformatted, Text: trains.Text{trains.T(part)}})
		}
		return m, nil
	}
	m := trains.Message{Blocks: []trains.Block{{Kind: trains.Header, Text: trains.Text{trains.T("Changes in " + ch.Tag.String())}}}}
	head := trains.Text{trains.T(changesSummary(ch))}
	if ch.Comparison.URL != "" {
		head = trains.Text{trains.L(head.Plain(), ch.Comparison.URL)}
	}
	m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: head})
	cs := ch.Comparison.Commits
	for i := 0; i < len(cs); i += changesPerSection {
		var t trains.Text
		for j, cm := range cs[i:min(i+changesPerSection, len(cs))] {
			if j > 0 {
				t = append(t, trains.T("\n"))
			}
			t = append(t, trains.C(trains.ShortSHA(cm.SHA)), trains.T(" "+trains.Truncate(cm.Title(), 100)))
			if cm.Author != "" {
				t = append(t, trains.T(" — "+cm.Author))
			}
		}
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: t})
	}
	if left := changesLeftOut(ch); left != "" {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Context, Text: trains.Text{trains.T(left)}})
	}
	return m, nil
}

// markdownPart is the most characters of a snippet one block holds, so
// that each renders as one Slack section and a long snippet spreads over
// messages between blocks.
const markdownPart = 2500

// cutLines cuts s between lines into parts of at most n bytes (a longer
// line is a part of its own).
func cutLines(s string, n int) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if cur.Len() > 0 && cur.Len()+len(line) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// changesSummary says what the list holds: the commits since the previous
// tag of the track, or the history up to the first one.
func changesSummary(ch trains.Changes) string {
	if ch.Previous.IsZero() {
		return fmt.Sprintf("It is the first %s tag: the %d newest commit(s) of the history up to it", ch.Tag.Track, ch.Comparison.Total)
	}
	return fmt.Sprintf("%d commit(s) since %s", ch.Comparison.Total, ch.Previous.String())
}

// changesLeftOut says which commits the list leaves out, "" when none.
func changesLeftOut(ch trains.Changes) string {
	switch {
	case ch.Previous.IsZero() && ch.More:
		return fmt.Sprintf("Older commits not listed: only the newest %d of the history are.", len(ch.Comparison.Commits))
	case ch.Comparison.Total > len(ch.Comparison.Commits):
		return fmt.Sprintf("%d older commits not listed; open the compare view.", ch.Comparison.Total-len(ch.Comparison.Commits))
	}
	return ""
}

// pullRef matches a pull request named in a commit's title: "(#123)" as
// a squash merge writes it, or "Merge pull request #123".
var pullRef = regexp.MustCompile(`(?:\(#|pull request #)([0-9]{1,7})\b`)

// changesMarkdown is the "What changed" section of a post-incident review
// for ch: the tag, its train, when it was made and deployed, and each
// commit with its link and the pull request its title names.
func changesMarkdown(ch trains.Changes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### What changed in %s\n\n", ch.Tag.String())
	if tr := ch.Train; tr.ID != "" {
		fmt.Fprintf(&b, "- Train: %s (%s)\n", tr.ID, tr.State)
	}
	if !ch.Tag.Date.IsZero() {
		fmt.Fprintf(&b, "- Tagged: %s\n", ch.Tag.Date.UTC().Format(trains.TimeLayout))
	}
	if tr := ch.Train; tr.State == trains.Deployed {
		fmt.Fprintf(&b, "- Deployed to %s: %s\n", tr.Track.Environment(), tr.Updated.UTC().Format(trains.TimeLayout))
	}
	summary := changesSummary(ch)
	if ch.Comparison.URL != "" {
		summary = "[" + summary + "](" + ch.Comparison.URL + ")"
	}
	fmt.Fprintf(&b, "- %s\n\n", summary)
	for _, cm := range ch.Comparison.Commits {
		sha := "`" + trains.ShortSHA(cm.SHA) + "`"
		if cm.URL != "" {
			sha = "[" + sha + "](" + cm.URL + ")"
		}
		title := mdEscape(cm.Title())
		if base, ok := strings.CutSuffix(cm.URL, "/commit/"+cm.SHA); ok {
			title = pullRef.ReplaceAllStringFunc(title, func(m string) string {
				n := pullRef.FindStringSubmatch(m)[1]
				return strings.TrimSuffix(m, "#"+n) + "[#" + n + "](" + base + "/pull/" + n + ")"
			})
		}
		fmt.Fprintf(&b, "- %s %s", sha, title)
		if cm.Author != "" {
			fmt.Fprintf(&b, " — %s", mdEscape(cm.Author))
		}
		b.WriteString("\n")
	}
	if left := changesLeftOut(ch); left != "" {
		fmt.Fprintf(&b, "\n_%s_\n", left)
	}
	return b.String()
}

// mdEscape escapes the characters Markdown would read as formatting or
// markup in a commit's title.
func mdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `&lt;`, ">", `&gt;`, "|", `\|`).Replace(s)
}
