package commands

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokenize(t *testing.T) {
	t.Parallel()
	text := "  pause  until 2026-12-02 18:00   re-roll of  mtest "
	toks := tokenize(text)
	var words []string
	for _, tk := range toks {
		words = append(words, tk.text)
	}
	if diff := cmp.Diff([]string{"pause", "until", "2026-12-02", "18:00", "re-roll", "of", "mtest"}, words); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := rest(text, toks, 4); got != "re-roll of  mtest" {
		t.Errorf("rest = %q", got)
	}
	if got := rest(text, toks, 9); got != "" {
		t.Errorf("rest past the end = %q", got)
	}
}

func TestHumanText(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"re-roll &amp; upgrade":                "re-roll & upgrade",
		"a &lt;b&gt; c":                        "a <b> c",
		"ping <!channel> and <!here>":          "ping @channel and @here",
		"see <https://x.example|y>":            "see y (https://x.example)",
		"see <https://x.example>":              "see https://x.example",
		"ask <@U01|ana> or <@U02>":             "ask @ana or @U02",
		"in <#C0CHANNEL1|ops>":                 "in #ops",
		"group <!subteam^S01|@oncall>":         "group @oncall",
		"typed &lt;!channel&gt; by hand":       "typed <!channel> by hand",
		"at <!date^1765296000^{date}|Dec 9th>": "at Dec 9th",
		"unbalanced < and > stay":              "unbalanced < and > stay",
		"<mailto:a@b.c|a@b.c>":                 "a@b.c (mailto:a@b.c)",
	}
	for in, want := range tests {
		if got := humanText(in); got != want {
			t.Errorf("humanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseMention(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"<@U123|ana>": "U123", "<@U123>": "U123", "<@W09>": "W09", "U77": "U77", "@U77": "U77"} {
		if got, ok := parseMention(in); !ok || got != want {
			t.Errorf("parseMention(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"@ana", "<!channel>", "<#C0CHANNEL1|x>", "u123", "<@U123", ""} {
		if got, ok := parseMention(in); ok {
			t.Errorf("parseMention(%q) = %q", in, got)
		}
	}
}

func TestTableAndNearest(t *testing.T) {
	t.Parallel()
	cmds := table()
	if err := checkTable(cmds); err != nil {
		t.Fatal(err)
	}
	h := &Commands{cmds: cmds}
	for in, want := range map[string]string{"cutt": "cut", "hist": "history", "pase": "pause", "oncal": "oncall", "aprove": "approve", "stat": "stats"} {
		if n := h.nearest(in); n == nil || n.name != want {
			t.Errorf("nearest(%q) = %v, want %s", in, n, want)
		}
	}
	if n := h.nearest("xyzzyplugh"); n != nil {
		t.Errorf("nearest(nonsense) = %s", n.name)
	}
	for _, c := range cmds {
		if c.summary == "" || c.who == "" || c.run == nil || !strings.HasPrefix(c.usage(), c.name) {
			t.Errorf("command %q is incomplete", c.name)
		}
	}
}
