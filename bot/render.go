package bot

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/trains"
)

// Block Kit limits (PROTOCOLS §4) and trainbot's own budgets.
const (
	// MaxBlocks is Slack's limit of blocks in one message.
	MaxBlocks = 50
	// MaxMessageText is the budget of text characters (all text objects
	// summed) of one message. Slack refuses large totals with
	// msg_blocks_too_long at an undocumented limit near 12,000 (PROTOCOLS
	// pitfall 6), so trainbot stays well under it.
	MaxMessageText = 10000
	// MaxFallback caps the plain fallback text of a message.
	MaxFallback = 3000

	maxSectionText = 3000
	maxFields      = 10
	maxFieldText   = 2000
	maxHeaderText  = 150
	maxButtonText  = 75
	maxButtonValue = 2000
	maxActionID    = 255
	maxButtons     = 25
	// blockOverhead is counted against MaxMessageText for every block, for
	// its container.
	blockOverhead = 20
)

// Part is one Slack message rendered from (part of) a trains.Message.
type Part struct {
	// Blocks are at most MaxBlocks Block Kit blocks.
	Blocks []slack.Block
	// Fallback is the plain notification text, at most MaxFallback runes.
	Fallback string
}

// Render renders m as one Slack message: Block Kit blocks and the plain
// fallback text. Text in Plain spans is escaped, so what a user typed can
// neither ping nor link. A message too long for one Slack message is cut
// after the blocks that fit, with a last context block saying how many
// were left out; use RenderAll to send all of it over several messages.
func Render(m trains.Message) (blocks []slack.Block, fallback string) {
	sized := renderSizedBlocks(m)
	var out []slack.Block
	size := 0
	for i, p := range sized {
		fits := len(out)+1 <= MaxBlocks-1 && size+p.size <= MaxMessageText
		if i == len(sized)-1 {
			// The last block may take the slot kept for the note.
			fits = len(out)+1 <= MaxBlocks && size+p.size <= MaxMessageText
		}
		if !fits {
			n := len(sized) - i
			out = append(out, contextNote(fmt.Sprintf("… %d more %s not shown", n, trains.Plural(n, "block", "blocks"))))
			break
		}
		out = append(out, p.block)
		size += p.size
	}
	return out, fallbackText(m)
}

// RenderAll renders m as one or more Slack messages, splitting it between
// its blocks so that each message keeps within MaxBlocks and
// MaxMessageText. A single block too big for a message alone is cut as
// Render cuts it. An empty message renders as one Part with no blocks.
func RenderAll(m trains.Message) []Part {
	var pages []trains.Message
	var cur trains.Message
	curBlocks, curSize := 0, 0
	for _, b := range m.Blocks {
		ps := renderBlock(b, len(cur.Blocks))
		n, size := len(ps), 0
		for _, p := range ps {
			size += p.size
		}
		if len(cur.Blocks) > 0 && (curBlocks+n > MaxBlocks || curSize+size > MaxMessageText) {
			pages = append(pages, cur)
			cur, curBlocks, curSize = trains.Message{}, 0, 0
		}
		cur.Blocks = append(cur.Blocks, b)
		curBlocks += n
		curSize += size
	}
	if len(cur.Blocks) > 0 || len(pages) == 0 {
		pages = append(pages, cur)
	}
	out := make([]Part, 0, len(pages))
	for _, p := range pages {
		blocks, fb := Render(p)
		out = append(out, Part{Blocks: blocks, Fallback: fb})
	}
	return out
}

// fallbackText is m as plain notification text, capped at MaxFallback
// runes. It is m.Plain() with what a user typed escaped, so that a reason
// cannot ping @channel from a notification either; mentions stay mentions.
// Slack needs some text, so an empty message gets a placeholder.
func fallbackText(m trains.Message) string {
	s := strings.TrimSpace(m.PlainWith(escapedSpan))
	if s == "" {
		return "(empty message)"
	}
	head, rest := cutEscaped(s, MaxFallback-1)
	if rest != "" {
		head += "…"
	}
	return head
}

// escapedSpan is s.Plain() escaped, a mention of a user id kept.
func escapedSpan(s trains.Span) string {
	if s.Kind == trains.Mention && userID.MatchString(s.User) {
		return "<@" + s.User + ">"
	}
	return escape(s.Plain())
}

// sizedBlock is one rendered Slack block and what it counts towards a
// message's limits.
type sizedBlock struct {
	block slack.Block
	size  int // text characters plus blockOverhead
}

func renderSizedBlocks(m trains.Message) []sizedBlock {
	var out []sizedBlock
	for i, b := range m.Blocks {
		out = append(out, renderBlock(b, i)...)
	}
	return out
}

// renderBlock renders one block as zero or more Slack blocks. index is the
// block's position in its message, used in block ids.
func renderBlock(b trains.Block, index int) []sizedBlock {
	switch b.Kind {
	case trains.Header:
		s := trains.Truncate(strings.TrimSpace(singleLine(b.Text.Plain())), maxHeaderText)
		if s == "" {
			return nil
		}
		return []sizedBlock{{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, s, true, false)), runes(s) + blockOverhead}}
	case trains.Section:
		var out []sizedBlock
		for _, chunk := range mrkdwnChunks(b.Text, maxSectionText) {
			out = append(out, sizedBlock{slack.NewSectionBlock(mrkdwn(chunk), nil, nil), runes(chunk) + blockOverhead})
		}
		return out
	case trains.Context:
		var out []sizedBlock
		for _, chunk := range mrkdwnChunks(b.Text, maxSectionText) {
			out = append(out, sizedBlock{slack.NewContextBlock("", mrkdwn(chunk)), runes(chunk) + blockOverhead})
		}
		return out
	case trains.Fields:
		return renderFields(b.Fields)
	case trains.Actions:
		return renderActions(b.Buttons, index)
	case trains.Divider:
		return []sizedBlock{{slack.NewDividerBlock(), blockOverhead}}
	case trains.Preformatted:
		var out []sizedBlock
		for _, chunk := range preChunks(b.Text.Plain(), maxSectionText-2*len(fence)) {
			s := fence + chunk + fence
			out = append(out, sizedBlock{slack.NewSectionBlock(mrkdwn(s), nil, nil), runes(s) + blockOverhead})
		}
		return out
	}
	return nil
}

// fence opens and closes a preformatted block in mrkdwn.
const fence = "```"

// preChunks escapes text for a preformatted block and cuts it into
// chunks of at most limit runes, between lines where it can (a longer
// line is cut outside any escape entity). A fence inside the text would
// end the block early: its backquotes become single quotes.
func preChunks(text string, limit int) []string {
	text = escape(strings.ReplaceAll(text, fence, "'''"))
	var out []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		for runes(line) > limit {
			cut := cutOutsideEntity(line, limit)
			flush()
			out = append(out, line[:cut])
			line = line[cut:]
		}
		if n+runes(line) > limit {
			flush()
		}
		cur.WriteString(line)
		n += runes(line)
	}
	flush()
	return out
}

// cutOutsideEntity is the byte index at which to cut s to at most limit
// runes, moved back before an escape entity (&amp; &lt; &gt;) it would
// split.
func cutOutsideEntity(s string, limit int) int {
	cut, count := len(s), 0
	for i := range s {
		if count == limit {
			cut = i
			break
		}
		count++
	}
	if amp := strings.LastIndexByte(s[:cut], '&'); amp > 0 && !strings.Contains(s[amp:cut], ";") {
		cut = amp
	}
	return cut
}

func renderFields(fields []trains.Field) []sizedBlock {
	var out []sizedBlock
	var objs []*slack.TextBlockObject
	size := 0
	flush := func() {
		if len(objs) > 0 {
			out = append(out, sizedBlock{slack.NewSectionBlock(nil, objs, nil), size + blockOverhead})
			objs, size = nil, 0
		}
	}
	for _, f := range fields {
		label := "*" + escapeInline(f.Label) + "*"
		if strings.TrimSpace(f.Label) == "" {
			label = ""
		}
		value := strings.Join(mrkdwnChunks(f.Value, 1<<30), "")
		s := label
		if value != "" {
			if s != "" {
				s += "\n"
			}
			s += value
		}
		if s == "" {
			continue
		}
		s = truncateMrkdwn(s, maxFieldText)
		objs = append(objs, mrkdwn(s))
		size += runes(s)
		if len(objs) == maxFields {
			flush()
		}
	}
	flush()
	return out
}

func renderActions(buttons []trains.Button, index int) []sizedBlock {
	var out []sizedBlock
	var els []slack.BlockElement
	var ids []string
	size := 0
	flush := func() {
		if len(els) > 0 {
			id := blockID(fmt.Sprintf("actions-%d-%d", index, len(out)), ids)
			out = append(out, sizedBlock{slack.NewActionBlock(id, els...), size + blockOverhead})
			els, ids, size = nil, nil, 0
		}
	}
	for _, btn := range buttons {
		// A command cut short would run a different command: leave out a
		// button that cannot carry its command whole.
		if btn.ID == "" || len(btn.ID) > maxActionID || btn.Command == "" || runes(btn.Command) > maxButtonValue {
			continue
		}
		label := trains.Truncate(singleLine(btn.Label), maxButtonText)
		if strings.TrimSpace(label) == "" {
			label = trains.Truncate(btn.Command, maxButtonText)
		}
		el := slack.NewButtonBlockElement(btn.ID, btn.Command, slack.NewTextBlockObject(slack.PlainTextType, label, true, false))
		switch btn.Style {
		case "primary":
			el.Style = slack.StylePrimary
		case "danger":
			el.Style = slack.StyleDanger
		}
		els = append(els, el)
		ids = append(ids, btn.ID+"="+btn.Command)
		size += runes(label)
		if len(els) == maxButtons {
			flush()
		}
	}
	flush()
	return out
}

// blockID is a stable block id: prefix and a hash of what the block holds,
// so that a message edited to hold other buttons gets a new id.
func blockID(prefix string, content []string) string {
	h := fnv.New32a()
	for _, c := range content {
		_, _ = h.Write([]byte(c))
		_, _ = h.Write([]byte{0})
	}
	return fmt.Sprintf("%s-%08x", prefix, h.Sum32())
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

func contextNote(s string) slack.Block {
	return slack.NewContextBlock("", mrkdwn(s))
}

// escape applies Slack's escaping (PROTOCOLS §4): only &, < and >.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// escapeInline escapes s for use inside *…* or `…`, where a newline or
// the closing mark would end the formatting early.
func escapeInline(s string) string {
	s = strings.ReplaceAll(singleLine(s), "*", "∗")
	return escape(s)
}

var userID = regexp.MustCompile(`^[UW][A-Z0-9]{1,20}$`)

// renderSpan renders one span as mrkdwn pieces. Each piece is atomic: a
// chunk boundary never falls inside one. Plain text is split after each
// newline so that long text can be cut between lines.
func renderSpan(s trains.Span) []string {
	switch s.Kind {
	case trains.Plain:
		if s.Text == "" {
			return nil
		}
		return splitAfterNewlines(escape(s.Text))
	case trains.Bold:
		if strings.TrimSpace(s.Text) == "" {
			return nil
		}
		return []string{"*" + escapeInline(s.Text) + "*"}
	case trains.Code:
		if s.Text == "" {
			return nil
		}
		return []string{"`" + escape(strings.ReplaceAll(singleLine(s.Text), "`", "'")) + "`"}
	case trains.Link:
		label := s.Text
		if label == "" {
			label = s.URL
		}
		if s.URL == "" {
			return []string{escape(label)}
		}
		u := strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", "&", "&amp;", " ", "%20", "\n", "").Replace(s.URL)
		return []string{"<" + u + "|" + escape(trains.Truncate(singleLine(label), 500)) + ">"}
	case trains.Mention:
		if !userID.MatchString(s.User) {
			return []string{escape("@" + s.User)}
		}
		return []string{"<@" + s.User + ">"}
	case trains.Date:
		if s.Time.IsZero() {
			return nil
		}
		return []string{fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", s.Time.Unix(), s.Time.UTC().Format(trains.TimeLayout))}
	}
	return nil
}

// mrkdwnChunks renders text as mrkdwn cut into chunks of at most limit
// runes, between spans or lines where it can. A piece longer than limit
// alone is cut at a rune boundary outside any escape entity; a formatted
// piece (bold, code, link) is cut short with "…".
func mrkdwnChunks(text trains.Text, limit int) []string {
	var chunks []string
	var cur strings.Builder
	curLen := 0
	flush := func() {
		if s := cur.String(); strings.TrimSpace(s) != "" {
			chunks = append(chunks, s)
		}
		cur.Reset()
		curLen = 0
	}
	for _, span := range text {
		for _, p := range renderSpan(span) {
			n := runes(p)
			if curLen+n <= limit {
				cur.WriteString(p)
				curLen += n
				continue
			}
			flush()
			if n <= limit {
				cur.WriteString(p)
				curLen = n
				continue
			}
			if span.Kind != trains.Plain {
				chunks = append(chunks, truncateMrkdwn(p, limit))
				continue
			}
			for p != "" {
				head, rest := cutEscaped(p, limit)
				if rest == "" {
					cur.WriteString(head)
					curLen = runes(head)
					break
				}
				chunks = append(chunks, head)
				p = rest
			}
		}
	}
	flush()
	return chunks
}

// cutEscaped cuts escaped text after at most limit runes, never inside an
// entity such as &amp;.
func cutEscaped(s string, limit int) (head, rest string) {
	if runes(s) <= limit {
		return s, ""
	}
	i, n := 0, 0
	for i < len(s) && n < limit {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		n++
	}
	if amp := strings.LastIndexByte(s[:i], '&'); amp >= 0 && amp >= i-4 && !strings.Contains(s[amp:i], ";") {
		if amp == 0 {
			amp = strings.IndexByte(s, ';') + 1
		}
		i = amp
	}
	return s[:i], s[i:]
}

// truncateMrkdwn cuts mrkdwn to at most limit runes with "…". It cuts
// before any token or entity the cut would break, and closes a bold or
// code mark left open.
func truncateMrkdwn(s string, limit int) string {
	if runes(s) <= limit {
		return s
	}
	head, _ := cutEscaped(s, limit-2)
	if lt := strings.LastIndexByte(head, '<'); lt >= 0 && !strings.Contains(head[lt:], ">") {
		head = head[:lt]
	}
	if strings.Count(head, "`")%2 == 1 {
		head += "`"
	} else if strings.Count(head, "*")%2 == 1 {
		head += "*"
	}
	return head + "…"
}

func splitAfterNewlines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func singleLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func runes(s string) int { return utf8.RuneCountInString(s) }
