package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/trains"
)

func isContentWrite(r githubfake.Request) bool {
	return r.Method == "PUT" && strings.HasPrefix(r.Route, "contents/") && r.Status/100 == 2
}

// The real binary, on Redis, with TRAINBOT_CALENDAR_PATH set: a dev cut
// leaves the calendar file in the repository with the next four trains,
// committed once with [skip ci]. Killed right after that commit, a new
// process finishes the train without committing it again.
func TestE2EDevCutCommitsTheCalendarFile(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	w := newWorld(t, r.URL, r.Prefix)
	w.gh.SetRunSteps(0) // the publish run waits until the test moves it
	w.gh.AddCommits("main", 2)
	settings := map[string]string{"TRAINBOT_CALENDAR_PATH": trains.CalendarPath}

	a := w.start("a", 1, settings)
	contains(t, w.slash(eRel, "cut dev"), "v0.1.0-dev.1")
	w.waitRequest(20*time.Second, "calendar commit", isContentWrite)
	w.waitMessage(20*time.Second, "Calendar updated", trains.CalendarPath)
	a.kill()

	w.start("b", 2, settings)
	w.gh.SetRunSteps(1)
	for _, run := range w.gh.Runs("publish-images.yaml") {
		w.gh.CompleteRun(run.ID, "success")
	}
	w.waitMessage(40*time.Second, "v0.1.0-dev.1", "is deployed")

	file, ok := w.gh.File("main", trains.CalendarPath)
	if !ok {
		t.Fatalf("no %s on main", trains.CalendarPath)
	}
	var rows []string
	for _, l := range strings.Split(file, "\n") {
		if strings.HasPrefix(l, "| dev-") || strings.HasPrefix(l, "| staging-") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 4 || !strings.HasPrefix(file, "# Release calendar") {
		t.Errorf("the calendar file lists %d trains, want the next four:\n%s", len(rows), file)
	}
	if msg := w.gh.CommitMessage("main"); !strings.Contains(msg, "v0.1.0-dev.1") || !strings.Contains(msg, "[skip ci]") {
		t.Errorf("commit message %q", msg)
	}
	if n := w.count(isContentWrite); n != 1 {
		t.Errorf("%d calendar commits, want 1", n)
	}
}
