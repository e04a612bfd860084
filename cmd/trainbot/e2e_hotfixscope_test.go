package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// TestE2EHotfixScope: through /train hotfix against Redis, a hotfix of main
// carrying 3 commits not yet in staging is refused (listed, nothing tagged
// or dispatched, audited); a branch cut from the staging tag with one fix
// goes through without friction; main with --force goes, announced as
// forced.
func TestE2EHotfixScope(t *testing.T) {
	r := redistest.New(t)
	e := startServe(t, r.URL, r.Prefix, nil)
	staging := e.gh.Head("main")
	e.gh.AddTag("v0.5.0-staging.1", staging)
	extra := e.gh.AddCommits("main", 3)
	e.gh.AddCommit("main", "fix: panic on empty block", time.Time{})

	contains(t, e.slash(eOther, "hotfix main validators paged --dry-run"), "Dry run", "v0.5.0-hotfix.1",
		"This hotfix also ships 3 commits not yet in staging", extra[2][:7], "change 3", extra[0][:7], "needs --force")
	refusal := e.slash(eVal, "hotfix main validators paged")
	contains(t, refusal, "Not hotfixed", "This hotfix also ships 3 commits not yet in staging", extra[1][:7], "change 2",
		"cut a branch from", "cherry-pick the fix", "--force", "Nothing was tagged or dispatched")
	if n, d := len(e.gh.Tags()), len(e.gh.Dispatches()); n != 1 || d != 0 {
		t.Fatalf("%d tags and %d dispatches after a refused hotfix, want the staging tag and none", n, d)
	}

	e.gh.AddBranch("hotfix/empty-block", staging)
	pick := e.gh.AddCommit("hotfix/empty-block", "fix: panic on empty block", time.Time{})
	reply := e.slash(eVal, "hotfix hotfix/empty-block validators paged")
	contains(t, reply, "v0.5.0-hotfix.1", pick[:7], "is on its way")
	if strings.Contains(reply, "Forced") || strings.Contains(reply, "not yet in") {
		t.Errorf("a hotfix off the staging tag met friction:\n%s", reply)
	}
	e.channelMessage("Hotfix v0.5.0-hotfix.1", "deployed")

	contains(t, e.slash(eVal, "hotfix main validators paged --force"), "v0.5.0-hotfix.2", "Forced",
		"3 commits not yet in v0.5.0-staging.1 or v0.5.0-hotfix.1")
	m := e.channelMessage("Hotfix v0.5.0-hotfix.2", "deployed")
	contains(t, m.AllText(), "Forced", "3 commits not yet in v0.5.0-staging.1 or v0.5.0-hotfix.1")
	if tag, _ := e.gh.Tag("v0.5.0-hotfix.2"); tag.Commit != e.gh.Head("main") {
		t.Errorf("hotfix.2 on %s, want main's head", tag.Commit)
	}

	c, err := config(ModeCalendar)
	if err != nil {
		t.Fatal(err)
	}
	store, closer, err := openStore(t.Context(), c, trainstest.NewClock(time.Now()), newLogger(io.Discard, "error", false), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	log, err := store.AuditLog(t.Context(), "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var hotfixes []trains.AuditEntry
	for _, a := range log {
		if a.Action == "hotfix" {
			hotfixes = append(hotfixes, a)
		}
	}
	if len(hotfixes) != 3 { // newest first: forced, off the tag, refused
		t.Fatalf("hotfix audit entries = %+v, want 3", hotfixes)
	}
	if a := hotfixes[2]; !strings.HasPrefix(a.Result, "refused: ") || !strings.Contains(a.Result, "3 commit(s) not yet in v0.5.0-staging.1") {
		t.Errorf("refusal audited as %+v", a)
	}
	if a := hotfixes[1]; a.Result != "ok" || strings.Contains(a.Detail, "forced") {
		t.Errorf("hotfix off the staging tag audited as %+v", a)
	}
	if a := hotfixes[0]; a.Result != "ok" || !strings.Contains(a.Detail, "forced: ships 3 commit(s) not yet in v0.5.0-staging.1 or v0.5.0-hotfix.1") {
		t.Errorf("forced hotfix audited as %+v", a)
	}
}
