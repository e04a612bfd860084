package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
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
		clock: systemClock{},
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
	err := run(t.Context(), []string{"console", "--repo", t.TempDir()}, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, clock: systemClock{}})
	if err == nil || !strings.Contains(err.Error(), "pass --repo DIR") {
		t.Errorf("console outside a repository: %v", err)
	}
}
