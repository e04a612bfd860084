package commands_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/commands"
)

// usageFlag is a flag as a usage line shows it.
var usageFlag = regexp.MustCompile(`\[--([a-z][a-z-]*)\]`)

// TestFlagUsageMatchesTheParser: the flags each command's usage shows,
// in /train help and in its usage errors, are exactly the flags its
// parser takes, and help says what each one does. Every flag any usage
// shows, and one none does, is tried on every command: a command refuses
// as an unknown flag exactly those its usage does not show (a command
// that shows none takes words starting with -- as words, e.g. in a reason).
func TestFlagUsageMatchesTheParser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	shown := map[string][]string{} // command → the flags its usage shows
	tried := []string{"no-such-flag"}
	for _, name := range commands.Names() {
		help, _ := h.do(t, stranger, "help "+name)
		line, _, _ := strings.Cut(help, "\n")
		if !strings.HasPrefix(line, "/train "+name) {
			t.Fatalf("/train help %s does not start with its usage:\n%s", name, help)
		}
		usage, about, _ := strings.Cut(line, " — ")
		for _, m := range usageFlag.FindAllStringSubmatch(usage, -1) {
			shown[name] = append(shown[name], m[1])
			if !slices.Contains(tried, m[1]) {
				tried = append(tried, m[1])
			}
			if !strings.Contains(about, "--"+m[1]+" ") {
				t.Errorf("/train help %s does not say what --%s does:\n%s", name, m[1], help)
			}
		}
	}
	if !slices.Contains(shown["cut"], "dry-run") || !slices.Contains(shown["cut"], "force") || !slices.Contains(shown["hotfix"], "dry-run") {
		t.Fatalf("the usage lines lost flags: %v", shown)
	}
	for _, name := range commands.Names() {
		for _, f := range tried {
			text := name + " --" + f
			got, _ := h.do(t, stranger, text)
			refused := strings.Contains(got, "unknown flag --"+f)
			want := len(shown[name]) > 0 && !slices.Contains(shown[name], f)
			switch {
			case refused && !want:
				t.Errorf("%q: the usage shows --%s but the parser refuses it:\n%s", text, f, got)
			case !refused && want:
				t.Errorf("%q: the usage does not show --%s but the parser takes it:\n%s", text, f, got)
			case refused && !strings.Contains(got, "Usage: /train "+name):
				t.Errorf("%q: an unknown flag without the usage:\n%s", text, got)
			}
		}
	}
	if len(h.GH.Tags()) != 0 || len(h.GH.Dispatches()) != 0 {
		t.Error("trying flags changed GitHub")
	}
}

// TestFlagsAreHonoured: a flag the usage shows does what help says, with
// the same parser wherever it is written.
func TestFlagsAreHonoured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	h.GH.AddCommits("main", 1)
	for _, text := range []string{"cut dev --dry-run", "cut --dry-run dev"} {
		got, refused := h.do(t, stranger, text) // anyone may with --dry-run
		if refused {
			t.Errorf("%q refused:\n%s", text, got)
		}
		mustContain(t, got, "v0.1.0-dev.1")
	}
	h.GH.AddTag("v0.5.0-staging.1", h.GH.Head("main"))
	got, refused := h.do(t, stranger, "hotfix main a reason --dry-run")
	if refused {
		t.Errorf("a hotfix dry run by anyone refused:\n%s", got)
	}
	mustContain(t, got, "v0.5.0-hotfix.1")
	if len(h.GH.Tags()) != 1 || len(h.GH.Dispatches()) != 0 {
		t.Error("a dry run changed GitHub")
	}
}
