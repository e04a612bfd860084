package commands_test

import (
	"strings"
	"testing"
)

// TestMoreThan250Commits: past GitHub's 250 commits a compare lists, the
// dry run still shows the newest ten and counts the older ones right, and
// changes lists the newest and says how many older ones it left out.
func TestMoreThan250Commits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	h.GH.AddTag("v0.5.0-dev.1", h.GH.Head("main"))
	shas := h.GH.AddCommits("main", 600)
	newest, oldest := shas[599], shas[0]

	got, _ := h.do(t, stranger, "cut dev --dry-run")
	mustContain(t, got, "600 commit(s) since v0.5.0-dev.1", newest[:7]+" change 600", shas[590][:7]+" change 591", "… and 590 older")
	if strings.Contains(got, oldest[:7]) {
		t.Errorf("the dry run lists the oldest commit:\n%s", got)
	}

	h.GH.AddTag("v0.5.0-dev.2", newest)
	got, _ = h.do(t, stranger, "changes v0.5.0-dev.2")
	mustContain(t, got, "600 commit(s) since v0.5.0-dev.1", newest[:7]+" change 600", shas[350][:7]+" change 351", "350 older commits not listed")
	if strings.Contains(got, oldest[:7]) {
		t.Errorf("changes lists the oldest commit rather than the newest:\n%s", got)
	}
}
