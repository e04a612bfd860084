package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/trains"
)

// TestChangesOfAFirstTag: the first tag of a track lists the history up
// to it, newest commits kept and the cap said, rather than refusing.
func TestChangesOfAFirstTag(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	shas := h.GH.AddCommits("main", 150) // with the root commit: 151 in history
	h.GH.AddTag("v0.5.0-dev.1", shas[149])
	got, refused := h.do(t, stranger, "changes v0.5.0-dev.1")
	if refused {
		t.Fatalf("refused: %s", got)
	}
	mustContain(t, got, "first dev tag", "the 100 newest commit(s) of the history up to it",
		shas[149][:7]+" change 150", shas[50][:7]+" change 51", "Older commits not listed: only the newest 100")
	if strings.Contains(got, shas[49][:7]) {
		t.Errorf("lists a commit past the newest 100:\n%s", got)
	}

	// As Markdown, the 100 commits spread over blocks Slack can show.
	r := h.cmds.Handle(t.Context(), commands.Request{User: stranger, Text: "changes v0.5.0-dev.1 --markdown", Channel: "C0CHANNEL1"})
	var pre strings.Builder
	blocks := 0
	for _, b := range r.Message.Blocks {
		if b.Kind == trains.Preformatted {
			blocks++
			if n := len(b.Text.Plain()); n > 2500 {
				t.Errorf("a snippet block of %d characters", n)
			}
			pre.WriteString(b.Text.Plain())
		}
	}
	if blocks < 2 {
		t.Errorf("a 100-commit snippet in %d block(s)", blocks)
	}
	mustContain(t, pre.String(), "### What changed in v0.5.0-dev.1", shas[149][:7], shas[50][:7], "_Older commits not listed: only the newest 100 of the history are._")

	// A short history is listed whole, and nothing is said left out.
	h2 := newHarness(t, "2026-12-01 10:00")
	few := h2.GH.AddCommits("main", 3)
	h2.GH.AddTag("v0.1.0-staging.1", few[2])
	got, _ = h2.do(t, stranger, "changes v0.1.0-staging.1")
	mustContain(t, got, "first staging tag", "the 4 newest commit(s)", few[0][:7]+" change 1", "initial commit")
	if strings.Contains(got, "not listed") {
		t.Errorf("a whole history says commits were left out:\n%s", got)
	}
}

// TestChangesAsMarkdown: --markdown gives a snippet a post-incident
// review can paste: the tag, the train, when it was tagged and deployed,
// each commit linked, pull requests named in titles linked, and titles
// that look like markup escaped.
func TestChangesAsMarkdown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	h.GH.AddTag("v0.5.0-staging.1", h.GH.Head("main"))
	h.GH.AddTag("v0.4.0-dev.1", h.GH.Head("main"))
	fix := h.GH.AddCommit("main", "fix the validator panic (#123)\n\nlong body", time.Time{})
	h.GH.AddCommit("main", "Merge pull request #77 from acme/*bold*_stuff", time.Time{})
	hostile := h.GH.AddCommit("main", "<!channel> [click](https://evil.example) `x`", time.Time{})
	if got, refused := h.do(t, releaser, "cut dev"); refused {
		t.Fatalf("cut refused: %s", got)
	}
	h.Svc.Wait()

	r := h.cmds.Handle(t.Context(), commands.Request{User: stranger, Text: "changes v0.5.0-dev.1 --markdown", Channel: "C0CHANNEL1"})
	if r.Refused {
		t.Fatalf("refused: %s", r.Message.Plain())
	}
	var pre string
	for _, b := range r.Message.Blocks {
		if b.Kind == trains.Preformatted {
			pre += b.Text.Plain()
		}
	}
	if pre == "" {
		t.Fatalf("no preformatted snippet in:\n%s", r.Message.Plain())
	}
	repo := "https://github.com/acme/chain"
	mustContain(t, pre,
		"### What changed in v0.5.0-dev.1",
		"- Train: dev-2026-12-01 (deployed)",
		"- Tagged: 2026-12-01 10:00 UTC",
		"- Deployed to dev: ",
		"- [3 commit(s) since v0.4.0-dev.1]("+repo+"/compare/",
		"- [`"+fix[:7]+"`]("+repo+"/commit/"+fix+") fix the validator panic ([#123]("+repo+"/pull/123))",
		"Merge pull request [#77]("+repo+"/pull/77) from acme/\\*bold\\*\\_stuff",
		"- [`"+hostile[:7]+"`]("+repo+"/commit/"+hostile+") &lt;!channel&gt; \\[click\\](https://evil.example) \\`x\\`",
	)
	if strings.Contains(pre, "long body") {
		t.Errorf("the snippet holds a commit's body, not its title:\n%s", pre)
	}
}
