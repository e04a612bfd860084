package deploy

import (
	"errors"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// Log reads one page of GitHub's commit list from a ref, newest first,
// says whether older commits exist, and names a missing ref.
func TestLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	shas := e.fake.AddCommits("main", 120)
	e.fake.AddBranch("old", shas[9])

	cs, more, err := e.gh.Log(ctx, "main", 100)
	if err != nil || !more || len(cs) != 100 || cs[0].SHA != shas[119] || cs[99].SHA != shas[20] {
		t.Fatalf("Log(main, 100) = %d commits from %.7s, more %v, %v; want 100 from the head, more", len(cs), first(cs), more, err)
	}
	if cs[0].Title() != "change 120" || cs[0].URL == "" {
		t.Errorf("newest commit = %+v", cs[0])
	}
	cs, more, err = e.gh.Log(ctx, "old", 100) // 10 commits and the root
	if err != nil || more || len(cs) != 11 || cs[0].SHA != shas[9] {
		t.Errorf("Log(old, 100) = %d commits, more %v, %v; want 11, no more", len(cs), more, err)
	}
	if _, _, err := e.gh.Log(ctx, "no-such-branch", 10); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Log(no-such-branch) = %v, want ErrNotFound", err)
	}
	if n := e.fake.Count("GET", "commits"); n != 3 {
		t.Errorf("%d requests, want one a call", n)
	}
}

func first(cs []trains.Commit) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].SHA
}
