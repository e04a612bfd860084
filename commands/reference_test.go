package commands_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/commands"
)

// docs/commands.md is what the command table makes of it: a command, a
// flag, a summary or an example changed in the table and not regenerated
// fails here.
func TestReferenceIsGenerated(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", filepath.FromSlash(commands.ReferenceFile))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the command reference: %v; run `go generate ./commands/` to write it", err)
	}
	if want := commands.ReferenceMarkdown(); !bytes.Equal(got, want) {
		t.Errorf("%s differs from the command table: run `go generate ./commands/` and commit it (- file, + table):\n%s",
			commands.ReferenceFile, cmp.Diff(string(got), string(want)))
	}
}

// The reference lists every command of the table with its usage, who may
// run it and each flag.
func TestReferenceHasEveryCommand(t *testing.T) {
	t.Parallel()
	md := string(commands.ReferenceMarkdown())
	ref := commands.Reference()
	if len(ref) != len(commands.Names()) {
		t.Fatalf("%d entries in the reference, %d commands", len(ref), len(commands.Names()))
	}
	for _, e := range ref {
		for _, want := range []string{"## /train " + e.Name + "\n", "\n/train " + e.Usage + "\n", "**Who:** " + e.Who} {
			if !strings.Contains(md, want) {
				t.Errorf("the reference lacks %q", want)
			}
		}
		for _, f := range e.Flags {
			if !strings.Contains(md, "- `--"+f.Name+"`: "+f.Does) {
				t.Errorf("the reference lacks /train %s's flag --%s", e.Name, f.Name)
			}
		}
	}
}

// Each example names the command it is listed under, uses only that
// command's flags, and is taken by the parser: run by a user of the right
// role, it gets no usage error.
func TestReferenceExamples(t *testing.T) {
	t.Parallel()
	role := map[string]string{"approve": validator, "pause": chainOps, "resume": chainOps}
	mention := regexp.MustCompile(`@([a-z]+)`)
	for _, e := range commands.Reference() {
		for _, x := range e.Examples {
			t.Run(x, func(t *testing.T) {
				t.Parallel()
				text, ok := strings.CutPrefix(x, "/train "+e.Name)
				if !ok || text != "" && text[0] != ' ' {
					t.Fatalf("an example of /train %s does not start with it", e.Name)
				}
				for _, w := range strings.Fields(text) {
					name, isFlag := strings.CutPrefix(w, "--")
					if isFlag && !hasFlag(e, name) {
						t.Errorf("the example uses --%s, which /train %s does not take", name, e.Name)
					}
				}
				user := releaser
				if r, ok := role[e.Name]; ok {
					user = r
				}
				// As Slack sends it: @rita becomes a mention of a user id.
				slack := mention.ReplaceAllStringFunc(strings.TrimPrefix(x, "/train "), func(m string) string {
					return "<@U0" + strings.ToUpper(m[1:]) + ">"
				})
				h := newHarness(t, "2026-12-01 10:00")
				got, _ := h.do(t, user, slack)
				for _, bad := range []string{"Usage: /train", "I don't know the command", "Something went wrong"} {
					if strings.Contains(got, bad) {
						t.Errorf("%q is not taken (%q):\n%s", slack, bad, got)
					}
				}
			})
		}
	}
}

func hasFlag(e commands.Entry, name string) bool {
	for _, f := range e.Flags {
		if f.Name == name {
			return true
		}
	}
	return false
}
