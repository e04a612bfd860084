package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
)

// Refs typed by users name things of the released repository only (SPEC
// §6): anything else is refused before any GitHub request.

// schedulerRoutes are the requests trainbot makes on its own while these
// tests run: the scheduler's look at the deploy runs, every tick, and its
// listing of every tag, at its first tick and then daily (the commands
// here list only a line's tags, git/matching-refs/tags/v<X.Y.Z>-).
var schedulerRoutes = []string{"actions/workflows/deploy-simple.yaml/runs", "git/matching-refs/tags/v"}

// outsideRepo returns the requests whose path is not under the fake's
// repository (/repos/<owner>/<name>/, or the same under /api/v3).
func outsideRepo(gh *githubfake.Fake) []githubfake.Request {
	base := "/repos/" + gh.Owner() + "/" + gh.Repo() + "/"
	var out []githubfake.Request
	for _, r := range gh.Requests() {
		if !strings.HasPrefix(strings.TrimPrefix(r.Path, "/api/v3"), base) {
			out = append(out, r)
		}
	}
	return out
}

// madeByCommand returns the requests other than the scheduler's.
func madeByCommand(gh *githubfake.Fake) []githubfake.Request {
	var out []githubfake.Request
	for _, r := range gh.Requests() {
		if !slices.Contains(schedulerRoutes, r.Route) {
			out = append(out, r)
		}
	}
	return out
}

func TestE2EHotfixHostileRefs(t *testing.T) {
	e := startServe(t, "", "", nil)
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	e.gh.AddCommits("main", 1)

	const notRef = "is not a commit sha or a branch name"
	for _, tt := range []struct {
		ref  string
		want string // in the reply
	}{
		{"..", notRef},
		{"../../../victim/private/commits/main", notRef},
		{"%2e%2e", notRef},
		{"%2e%2e%2fvictim", notRef},
		{"main/../../user", notRef},
		{"-x", notRef},
		{"--upload-pack=x", "unknown flag"},
		{strings.Repeat("a", 41), notRef},
		{"a\x01b", notRef},
		{"a\x7fb", notRef},
		{"a?b", notRef},
		{"a#b", notRef},
		{`a\b`, notRef},
		{"a@{1}", notRef},
		{"a..b", notRef},
	} {
		for _, dry := range []string{" --dry-run", ""} {
			e.gh.ResetRequests()
			reply := e.slash(eRel, "hotfix "+tt.ref+" validators paged"+dry)
			contains(t, reply, tt.want)
			if strings.Contains(reply, "v0.5.0-hotfix.1") || strings.Contains(reply, "Something went wrong") {
				t.Errorf("hotfix %q%s was not refused plainly:\n%s", tt.ref, dry, reply)
			}
			if got := madeByCommand(e.gh); len(got) != 0 {
				t.Errorf("hotfix %q%s made GitHub requests: %v", tt.ref, dry, got)
			}
			if got := outsideRepo(e.gh); len(got) != 0 {
				t.Errorf("hotfix %q%s reached outside the repository: %v", tt.ref, dry, got)
			}
		}
	}
	if n := len(e.gh.Tags()); n != 1 {
		t.Errorf("%d tags after refused hotfixes, want the staging tag only", n)
	}
	if n := len(e.gh.Dispatches()); n != 0 {
		t.Errorf("%d dispatches after refused hotfixes", n)
	}
}

func TestE2EHotfixOnlyWhatIsOnABranch(t *testing.T) {
	e := startServe(t, "", "", nil)
	repo := e.gh.Owner() + "/" + e.gh.Repo()
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fork := e.gh.AddForkCommit(e.gh.Head("main"), "fix: from a fork")
	e.gh.AddBranch("release/0.5", e.gh.Head("main"))
	offMain := e.gh.AddCommit("release/0.5", "fix: on the release branch", time.Time{})
	e.gh.AddCommit("release/0.5", "later", time.Time{})

	for _, dry := range []string{" --dry-run", ""} {
		contains(t, e.slash(eRel, "hotfix "+fork+" validators paged"+dry),
			"commit "+fork[:7]+" is not on any branch of "+repo, "must be pushed to a branch of "+repo+" first")
	}
	if _, ok := e.gh.Tag("v0.5.0-hotfix.1"); ok {
		t.Fatal("a fork's commit was tagged")
	}

	contains(t, e.slash(eRel, "hotfix "+offMain[:9]+" validators paged"), "v0.5.0-hotfix.1")
	e.channelMessage("Hotfix v0.5.0-hotfix.1", "deployed")
	e.gh.AddBranch("hotfix/panic", offMain) // cut from the last hotfix, so it keeps its fix
	head := e.gh.AddCommit("hotfix/panic", "fix: panic", time.Time{})
	contains(t, e.slash(eRel, "hotfix hotfix/panic validators paged again"), "v0.5.0-hotfix.2")
	e.channelMessage("Hotfix v0.5.0-hotfix.2", "deployed")
	if tag, _ := e.gh.Tag("v0.5.0-hotfix.1"); tag.Commit != offMain {
		t.Errorf("hotfix.1 on %s, want %s", tag.Commit, offMain)
	}
	if tag, _ := e.gh.Tag("v0.5.0-hotfix.2"); tag.Commit != head {
		t.Errorf("hotfix.2 on %s, want %s", tag.Commit, head)
	}
	if got := outsideRepo(e.gh); len(got) != 0 {
		t.Errorf("requests outside the repository: %v", got)
	}
}

func TestE2EChangesOnlyOfTrainTags(t *testing.T) {
	e := startServe(t, "", "", nil)
	for _, ref := range []string{"../../x", "v1.0.0-dev.1/../../x", "%2e%2e", "v1.0.0-dev.1?x"} {
		e.gh.ResetRequests()
		contains(t, e.slash(eOther, "changes "+ref), "is not a train tag")
		if got := madeByCommand(e.gh); len(got) != 0 {
			t.Errorf("changes %q made GitHub requests: %v", ref, got)
		}
	}
}
