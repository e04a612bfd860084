package commands

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// The dry run of a rollback says which tag, which commit and what it takes
// back out, newest first, at most maxOutShown of them, and that nothing
// changed; in a quiet window it says the rollback would go out anyway.
func TestRollbackDryRunText(t *testing.T) {
	t.Parallel()
	var out []trains.Commit
	for i := range 12 {
		out = append(out, trains.Commit{SHA: strings.Repeat(string(rune('a'+i)), 40), Message: "change " + string(rune('A'+i)) + "\n\nbody"})
	}
	res := trains.RollbackResult{Outcome: trains.RollbackPreview,
		Current:  trains.DeployedTag{Tag: "v0.5.0-staging.2"},
		Previous: trains.DeployedTag{Tag: "v0.5.0-staging.1"},
		Commit:   trains.Commit{SHA: "1234567890abcdef", Message: "the good one"},
		Out:      trains.Comparison{Commits: out, Total: 12, URL: "https://github.example/acme/chain/compare/a...b"},
		Window:   trains.Window{ID: "w1", Reason: "upgrade"}}
	got := rollbackReply(res).Plain()
	for _, want := range []string{
		"Dry run: a rollback would deploy v0.5.0-staging.1 on 1234567 (the good one) again, in place of v0.5.0-staging.2, taking back out 12 commits",
		"llllll", "change L", "change C", "… and 2 more.", "A quiet window is active", "Nothing was changed.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "change B") || strings.Contains(got, "body") {
		t.Errorf("lists more than %d commits, or their bodies:\n%s", maxOutShown, got)
	}
}
