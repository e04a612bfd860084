package trains

import (
	"context"
	"strings"
	"time"
)

// This file is the transport-neutral form of what trainbot says: replies to
// a user and announcements in the channel. bot/ renders it as Block Kit,
// the console as plain text. Text a user typed travels as Plain spans, which
// every renderer escapes, so a reason cannot ping @channel or forge a link.

// SpanKind says how a span of text is shown.
type SpanKind int

// The kinds of span.
const (
	// Plain text: data or what a user typed; always escaped.
	Plain SpanKind = iota
	// Bold text.
	Bold
	// Code: a tag, a commit, a command.
	Code
	// Link: Text is the label, URL the target.
	Link
	// Mention: User is a Slack user id.
	Mention
	// Date: Time shown in each reader's own time zone where the transport
	// can; in UTC otherwise.
	Date
)

// Span is a piece of text.
type Span struct {
	Kind SpanKind  `json:"kind"`
	Text string    `json:"text,omitempty"`
	URL  string    `json:"url,omitempty"`
	User string    `json:"user,omitempty"`
	Time time.Time `json:"time,omitzero"`
}

// Text is a run of spans.
type Text []Span

// T is plain text.
func T(s string) Span { return Span{Kind: Plain, Text: s} }

// B is bold text.
func B(s string) Span { return Span{Kind: Bold, Text: s} }

// C is code.
func C(s string) Span { return Span{Kind: Code, Text: s} }

// L is a link with a label.
func L(label, url string) Span { return Span{Kind: Link, Text: label, URL: url} }

// U mentions a user.
func U(user string) Span { return Span{Kind: Mention, User: user} }

// D is a date and time.
func D(t time.Time) Span { return Span{Kind: Date, Time: t} }

// Plain returns the span with no formatting: a mention as <@U…>, a date
// in UTC, a link as its label and then its URL in brackets.
func (s Span) Plain() string {
	switch s.Kind {
	case Mention:
		return "<@" + s.User + ">"
	case Date:
		return s.Time.UTC().Format(TimeLayout)
	case Link:
		if s.URL != "" && s.URL != s.Text {
			return s.Text + " (" + s.URL + ")"
		}
	}
	return s.Text
}

// Plain returns the text with no formatting: mentions as <@U…>, dates in UTC.
func (t Text) Plain() string { return t.PlainWith(Span.Plain) }

// PlainWith is Plain with each span written by span.
func (t Text) PlainWith(span func(Span) string) string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(span(s))
	}
	return b.String()
}

// BlockKind says what a block is.
type BlockKind int

// The kinds of block.
const (
	// Header: a title line.
	Header BlockKind = iota
	// Section: a paragraph.
	Section
	// Fields: label–value pairs shown side by side.
	Fields
	// Context: small print.
	Context
	// Actions: a row of buttons.
	Actions
	// Divider: a line.
	Divider
	// Preformatted: Text shown as it is, in a fixed-width block, to be
	// copied (e.g. a Markdown snippet); formatting marks are not read.
	Preformatted
)

// Field is a label and its value.
type Field struct {
	Label string `json:"label"`
	Value Text   `json:"value"`
}

// Button is a button that stands for a /train command: a click runs
// Command through the same parser and role check as typed text.
type Button struct {
	// ID names the button ("confirm", "skip", "approve").
	ID      string `json:"id"`
	Label   string `json:"label"`
	Command string `json:"command"`
	// Style is "primary", "danger" or empty.
	Style string `json:"style,omitempty"`
}

// Block is one part of a message.
type Block struct {
	Kind    BlockKind `json:"kind"`
	Text    Text      `json:"text,omitempty"`
	Fields  []Field   `json:"fields,omitempty"`
	Buttons []Button  `json:"buttons,omitempty"`
}

// Message is something trainbot says.
type Message struct {
	Blocks []Block `json:"blocks"`
}

// Plain returns the message as plain text, one block per line: the
// console's output, and (through PlainWith) Slack's notification fallback.
func (m Message) Plain() string { return m.PlainWith(Span.Plain) }

// PlainWith is Plain with each span written by span, a field's label and
// a button ("[label: /train command]") each as one Plain span: a renderer
// escapes what users typed this way.
func (m Message) PlainWith(span func(Span) string) string {
	var lines []string
	for _, b := range m.Blocks {
		switch b.Kind {
		case Fields:
			for _, f := range b.Fields {
				lines = append(lines, span(T(f.Label))+": "+f.Value.PlainWith(span))
			}
		case Actions:
			var labels []string
			for _, btn := range b.Buttons {
				labels = append(labels, span(T("["+btn.Label+": /train "+btn.Command+"]")))
			}
			lines = append(lines, strings.Join(labels, " "))
		case Divider:
			lines = append(lines, "---")
		default:
			lines = append(lines, b.Text.PlainWith(span))
		}
	}
	return strings.Join(lines, "\n")
}

// Plural is one when n is 1 and many otherwise: "1 commit", "2 commits".
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Say builds a message of one section.
func Say(spans ...Span) Message { return Message{Blocks: []Block{{Kind: Section, Text: spans}}} }

// Announcer posts to the validators' channel (SPEC §2). Every method
// returns an error saying what Slack refused.
type Announcer interface {
	// Post posts a new message to the channel and returns where it is.
	Post(ctx context.Context, m Message) (MessageRef, error)
	// Reply posts m in the thread under parent.
	Reply(ctx context.Context, parent MessageRef, m Message) (MessageRef, error)
	// Edit replaces the message at ref with m.
	Edit(ctx context.Context, ref MessageRef, m Message) error
}
