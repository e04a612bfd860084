package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/trains"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var slot = time.Date(2026, 12, 9, 14, 0, 0, 0, time.UTC)

// goldenMessages are representative messages rendered to testdata/*.golden.json.
func goldenMessages() map[string]trains.Message {
	long := strings.Repeat("commit 0123456 fix the validator restart loop & tidy <logs>\n", 60) // > 3000 chars
	many := trains.Message{}
	for i := range 60 {
		many.Blocks = append(many.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.C("abc" + string(rune('a'+i%26))), trains.T(" a commit")}})
	}
	return map[string]trains.Message{
		"cut_announcement": {Blocks: []trains.Block{
			{Kind: trains.Header, Text: trains.Text{trains.T("Dev train v0.5.0-dev.4")}},
			{Kind: trains.Section, Text: trains.Text{
				trains.T("Cut at "), trains.D(slot), trains.T(" by "), trains.U("U123ANA"),
				trains.T(": "), trains.B("12 commits"), trains.T(" since "), trains.C("v0.5.0-dev.3"),
				trains.T(" ("), trains.L("compare", "https://github.com/o/r/compare/v0.5.0-dev.3...v0.5.0-dev.4"), trains.T(")."),
			}},
			{Kind: trains.Fields, Fields: []trains.Field{
				{Label: "Track", Value: trains.Text{trains.T("dev")}},
				{Label: "On-call", Value: trains.Text{trains.U("U456BOB")}},
				{Label: "Commit", Value: trains.Text{trains.C("0123456789ab")}},
				{Label: "Slot", Value: trains.Text{trains.D(slot)}},
			}},
			{Kind: trains.Divider},
			{Kind: trains.Actions, Buttons: []trains.Button{
				{ID: "confirm", Label: "I'm on it", Command: "confirm dev-2026-12-09", Style: "primary"},
				{ID: "skip", Label: "Skip", Command: "skip dev-2026-12-09", Style: "danger"},
				{ID: "approve", Label: "Approve", Command: "approve staging-2026-12-09"},
			}},
			{Kind: trains.Context, Text: trains.Text{trains.T("Reminder 1 of 2 · times in your time zone")}},
		}},
		"user_text_escaped": {Blocks: []trains.Block{
			{Kind: trains.Section, Text: trains.Text{
				trains.T("Paused by "), trains.U("U123ANA"), trains.T(": "),
				trains.T("<!channel> re-roll <https://evil.example|mtest-val-01> & <@U999> *now*"),
			}},
			{Kind: trains.Fields, Fields: []trains.Field{{Label: "Reason <b>", Value: trains.Text{trains.T("a & b <!here>")}}}},
			{Kind: trains.Context, Text: trains.Text{trains.C("<!everyone> `x`"), trains.T(" "), trains.B("<@U01>")}},
			{Kind: trains.Header, Text: trains.Text{trains.T("<!channel> & " + strings.Repeat("long header ", 20))}},
		}},
		"over_50_blocks":   many,
		"long_section":     {Blocks: []trains.Block{{Kind: trains.Section, Text: trains.Text{trains.B("Changes"), trains.T("\n" + long)}}}},
		"many_fields":      {Blocks: []trains.Block{{Kind: trains.Fields, Fields: fields(13)}}},
		"empty_and_spaces": {Blocks: []trains.Block{{Kind: trains.Section}, {Kind: trains.Section, Text: trains.Text{trains.T("only this")}}}},
	}
}

func fields(n int) []trains.Field {
	var fs []trains.Field
	for i := range n {
		fs = append(fs, trains.Field{Label: "F" + string(rune('A'+i)), Value: trains.Text{trains.T("v")}})
	}
	return fs
}

type goldenFile struct {
	Blocks   []slack.Block `json:"blocks"`
	Fallback string        `json:"text"`
}

func TestRenderGolden(t *testing.T) {
	for name, m := range goldenMessages() {
		t.Run(name, func(t *testing.T) {
			blocks, fallback := Render(m)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // readable <!date^…> and <@U…> in the files
			enc.SetIndent("", "  ")
			if err := enc.Encode(goldenFile{Blocks: blocks, Fallback: fallback}); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Render(%s) differs from %s (-want +got); if the change is right, run go test ./bot -update:\n%s", name, path, diff)
			}
			checkLimits(t, blocks)
		})
	}
}

// checkLimits asserts the Block Kit limits of PROTOCOLS §4 on rendered blocks.
func checkLimits(t *testing.T, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > MaxBlocks {
		t.Errorf("%d blocks, more than %d", len(blocks), MaxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil && (runes(b.Text.Text) > maxSectionText || b.Text.Text == "") {
				t.Errorf("block %d: section text of %d runes", i, runes(b.Text.Text))
			}
			if len(b.Fields) > maxFields {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if runes(f.Text) > maxFieldText {
					t.Errorf("block %d: field of %d runes", i, runes(f.Text))
				}
			}
		case *slack.HeaderBlock:
			if runes(b.Text.Text) > maxHeaderText {
				t.Errorf("block %d: header of %d runes", i, runes(b.Text.Text))
			}
		case *slack.ActionBlock:
			if ids[b.BlockID] || b.BlockID == "" {
				t.Errorf("block %d: block_id %q empty or repeated", i, b.BlockID)
			}
			ids[b.BlockID] = true
		}
	}
}

func TestRenderEscapesUserText(t *testing.T) {
	t.Parallel()
	m := trains.Say(trains.T("<!channel> <https://x|y> & <@U01>"))
	blocks, fallback := Render(m)
	text := blocks[0].(*slack.SectionBlock).Text
	want := "&lt;!channel&gt; &lt;https://x|y&gt; &amp; &lt;@U01&gt;"
	if text.Text != want || !text.Verbatim {
		t.Errorf("section text = %q (verbatim %v), want %q verbatim", text.Text, text.Verbatim, want)
	}
	if fallback != want {
		t.Errorf("fallback = %q, want %q", fallback, want)
	}
}

func TestRenderSpans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		span trains.Span
		want string
	}{
		{"plain", trains.T("a<b>&c"), "a&lt;b&gt;&amp;c"},
		{"bold", trains.B("x & y"), "*x &amp; y*"},
		{"code", trains.C("<tag>"), "`&lt;tag&gt;`"},
		{"link", trains.L("a|b <c>", "https://x.example/a?b=1&c=2"), "<https://x.example/a?b=1&amp;c=2|a|b &lt;c&gt;>"},
		{"mention", trains.U("U123"), "<@U123>"},
		{"mention not an id", trains.U("<!channel>"), "@&lt;!channel&gt;"},
		{"date", trains.D(slot), "<!date^1796824800^{date_short_pretty} {time}|2026-12-09 14:00 UTC>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(renderSpan(tt.span), "")
			if got != tt.want {
				t.Errorf("renderSpan(%+v) = %q, want %q", tt.span, got, tt.want)
			}
		})
	}
}

func TestRenderLongSectionSplitsWithoutBreakingEntities(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("&", 7000) // 35000 escaped chars, no newline
	blocks, _ := Render(trains.Say(trains.T(text)))
	var joined strings.Builder
	for _, b := range blocks {
		s, ok := b.(*slack.SectionBlock)
		if !ok {
			continue
		}
		if runes(s.Text.Text) > maxSectionText {
			t.Fatalf("section of %d runes", runes(s.Text.Text))
		}
		if strings.Count(s.Text.Text, "&") != strings.Count(s.Text.Text, "&amp;") || strings.Count(s.Text.Text, "&") != strings.Count(s.Text.Text, ";") {
			t.Fatalf("a section breaks an entity: %.40q…", s.Text.Text)
		}
		joined.WriteString(s.Text.Text)
	}
	last := blocks[len(blocks)-1].(*slack.ContextBlock)
	if !strings.Contains(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "more blocks not shown") {
		t.Errorf("the cut message does not end with a note: %+v", last)
	}
}

func TestRenderAllSplitsIntoMessages(t *testing.T) {
	t.Parallel()
	var m trains.Message
	for range 120 {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.T("x")}})
	}
	parts := RenderAll(m)
	total := 0
	for i, p := range parts {
		if len(p.Blocks) > MaxBlocks {
			t.Errorf("part %d has %d blocks", i, len(p.Blocks))
		}
		total += len(p.Blocks)
		if p.Fallback == "" {
			t.Errorf("part %d has no fallback", i)
		}
	}
	if len(parts) != 3 || total != 120 {
		t.Errorf("RenderAll made %d parts of %d blocks in all, want 3 parts of 120", len(parts), total)
	}

	// The text budget splits too: 8 sections of 2,500 chars.
	m = trains.Message{}
	for range 8 {
		m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: trains.Text{trains.T(strings.Repeat("y", 2500))}})
	}
	parts = RenderAll(m)
	for i, p := range parts {
		size := 0
		for _, b := range p.Blocks {
			size += runes(b.(*slack.SectionBlock).Text.Text)
		}
		if size > MaxMessageText {
			t.Errorf("part %d holds %d chars", i, size)
		}
	}
	if len(parts) != 3 {
		t.Errorf("RenderAll made %d parts, want 3", len(parts))
	}
}

// A preformatted block is fenced, cut between lines into sections Slack
// accepts, escaped without breaking an entity, and a fence inside it
// cannot end it early.
func TestRenderPreformatted(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := range 80 {
		lines = append(lines, fmt.Sprintf("- `%07d` fix <thing> & *more* ``` %d", i, i))
	}
	lines = append(lines, strings.Repeat("&", 700)) // one line longer than a section, escaped
	text := strings.Join(lines, "\n")
	parts := RenderAll(trains.Message{Blocks: []trains.Block{{Kind: trains.Preformatted, Text: trains.Text{trains.T(text)}}}})
	var got strings.Builder
	sections := 0
	for _, p := range parts {
		for _, b := range p.Blocks {
			s, ok := b.(*slack.SectionBlock)
			if !ok {
				continue
			}
			sections++
			body := s.Text.Text
			if runes(body) > maxSectionText {
				t.Fatalf("section of %d runes", runes(body))
			}
			inner, opened := strings.CutPrefix(body, "```")
			inner, closed := strings.CutSuffix(inner, "```")
			if !opened || !closed || strings.Contains(inner, "```") {
				t.Fatalf("section not one fenced block: %.60q…", body)
			}
			if strings.Count(inner, "&") != strings.Count(inner, ";") {
				t.Fatalf("a section breaks an entity: %.60q…", inner)
			}
			got.WriteString(inner)
		}
	}
	if sections < 3 {
		t.Errorf("%d sections for %d characters", sections, len(text))
	}
	want := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "```", "'''").Replace(text)
	if got.String() != want {
		t.Errorf("the sections together are not the text escaped (%d vs %d characters)", got.Len(), len(want))
	}
}
