package deploy

import (
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
)

// Without WithClock the Repo reads the system clock in UTC, as every other
// part of trainbot does: a time it makes up (here the synthetic publish run
// of a repository with no publish workflow) is stored and compared with
// times from the store and from GitHub, which are UTC.
func TestDefaultClockIsUTC(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t)
	client := fake.Point(github.NewClient(fake.HTTPClient()).WithAuthToken("test-token"))
	gh, err := New(client, Config{Owner: fake.Owner(), Repo: fake.Repo()})
	if err != nil {
		t.Fatal(err)
	}
	run, err := gh.WaitPublish(t.Context(), "v0.1.0-dev.1")
	if err != nil {
		t.Fatal(err)
	}
	if loc := run.Created.Location(); loc != time.UTC {
		t.Errorf("the synthetic publish run was created at %v, in %v: want UTC", run.Created, loc)
	}
}
