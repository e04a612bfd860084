package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// gitRepo makes a git repository with one commit on main in a temporary folder.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"commit", "-q", "--allow-empty", "-m", "first"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func gitTags(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("git", "tag", "--list")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestConsole(t *testing.T) {
	clearEnv(t)
	repo := gitRepo(t)
	t.Setenv("TRAINBOT_DATA_DIR", t.TempDir())
	var out, errOut strings.Builder
	e := env{
		stdin:  strings.NewReader("help\ncalendar\ncut dev\nbogus\n/train help cut\n"),
		stdout: &out, stderr: &errOut,
		clock: trains.SystemClock{},
	}
	if err := run(t.Context(), []string{"console", "--repo", repo}, e); err != nil {
		t.Fatalf("console: %v\n%s", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"/train cut dev|staging", // help
		"Release calendar",       // calendar
		"Cutting dev-" + time.Now().UTC().Format(time.DateOnly), "v0.1.0-dev.1", // cut
		"would dispatch deploy-simple.yaml ref=v0.1.0-dev.1", // the dispatch is printed
		"is deployed to dev",       // the thread
		"I don't know the command", // bogus
		"Who: releasers",           // /train help cut
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
	if tags := gitTags(t, repo); tags != "v0.1.0-dev.1" {
		t.Errorf("tags = %q, want v0.1.0-dev.1", tags)
	}
}

func TestConsoleOutsideARepository(t *testing.T) {
	clearEnv(t)
	t.Setenv("TRAINBOT_DATA_DIR", t.TempDir())
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"console", "--repo", t.TempDir()}, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, clock: trains.SystemClock{}})
	if err == nil || !strings.Contains(err.Error(), "pass --repo DIR") {
		t.Errorf("console outside a repository: %v", err)
	}
}

// The calendar reads the rotation and quiet windows the console stored.
func TestCalendarFromStore(t *testing.T) {
	clearEnv(t)
	repo := gitRepo(t)
	t.Setenv("TRAINBOT_DATA_DIR", t.TempDir())
	var out, errOut strings.Builder
	in := "oncall rotation <@UANA> <@UBOB>\npause from 2030-01-01 00:00 until 2030-01-02 00:00 chain upgrade\n"
	if err := run(t.Context(), []string{"console", "--repo", repo}, env{stdin: strings.NewReader(in), stdout: &out, stderr: &errOut, clock: trains.SystemClock{}}); err != nil {
		t.Fatalf("console: %v\n%s", err, errOut.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"calendar"}, env{stdout: &out, stderr: &errOut, clock: trains.SystemClock{}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| UANA |", "| UBOB |", "2030-01-01 00:00 UTC → 2030-01-02 00:00 UTC: chain upgrade"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("calendar lacks %q:\n%s", want, out.String())
		}
	}
	// A store that cannot be read is reported; the calendar still prints.
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	out.Reset()
	errOut.Reset()
	if err := run(t.Context(), []string{"calendar"}, env{stdout: &out, stderr: &errOut, clock: trains.SystemClock{}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "from the settings alone") || !strings.Contains(out.String(), "| unassigned |") {
		t.Errorf("unreadable store: stderr %q\n%s", errOut.String(), out.String())
	}
}
