package main

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/testenv"
	"github.com/trainbot/trainbot/trains"
)

const (
	e2eAppID   = 31337
	e2eInstID  = 4242
	e2eAppSlug = "trainbot-acme"
)

// appSettings are the settings of trainbot serve as a GitHub App's
// installation, with the key in a file, and no GITHUB_TOKEN.
func appSettings(t *testing.T, key *rsa.PrivateKey) map[string]string {
	file := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(file, []byte(pkcs1PEM(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"GITHUB_TOKEN": "", "GITHUB_APP_ID": strconv.Itoa(e2eAppID),
		"GITHUB_APP_INSTALLATION_ID": strconv.Itoa(e2eInstID), "GITHUB_APP_PRIVATE_KEY_FILE": file}
}

// trainbot serve authenticated as a GitHub App with the permissions
// docs/github.md lists: a dev cut tags, commits the calendar file, waits
// for the publish run and dispatches the deploy with the installation's
// token — the tag, the commit and the runs are the app's bot's — and
// GitHub, which refuses anything else once the app is installed (and
// anything beyond the installation's permissions), refuses none of its
// requests.
func TestE2EGitHubAppDevCut(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "", "")
	key := testAppKey(t)
	w.gh.InstallApp(githubfake.App{ID: e2eAppID, Slug: e2eAppSlug, InstallationID: e2eInstID, PublicKey: &key.PublicKey})
	w.gh.AddCommits("main", 2)
	w.gh.SetRunSteps(1)

	settings := appSettings(t, key)
	settings["TRAINBOT_CALENDAR_PATH"] = trains.CalendarPath
	p := w.start("app", 1, settings)
	contains(t, w.slash(eRel, "cut dev"), "v0.1.0-dev.1")
	w.waitMessage(30*time.Second, "v0.1.0-dev.1", "is deployed")

	bot := e2eAppSlug + "[bot]"
	if tag, ok := w.gh.Tag("v0.1.0-dev.1"); !ok || tag.Tagger != bot {
		t.Errorf("tag %+v, want v0.1.0-dev.1 tagged by %s", tag, bot)
	}
	for _, wf := range []string{"publish-images.yaml", "deploy-simple.yaml"} {
		if runs := w.gh.Runs(wf); len(runs) != 1 || runs[0].Actor != bot {
			t.Errorf("%s runs %+v, want one by %s", wf, runs, bot)
		}
	}
	if _, ok := w.gh.File("main", trains.CalendarPath); !ok {
		t.Errorf("no calendar file committed")
	}
	commit, _, err := w.gh.Client().Repositories.GetCommit(t.Context(), w.gh.Owner(), w.gh.Repo(), "main", nil)
	if err != nil || commit.GetAuthor().GetLogin() != bot || !strings.Contains(commit.GetCommit().GetMessage(), "v0.1.0-dev.1") {
		t.Errorf("main's head commit by %q (%q), err %v: want the calendar commit by %s", commit.GetAuthor().GetLogin(), commit.GetCommit().GetMessage(), err, bot)
	}
	if toks := w.gh.InstallationTokens(); len(toks) != 1 {
		t.Errorf("%d installation tokens, want 1 (asked at start, reused)", len(toks))
	}
	for _, r := range w.gh.Requests() {
		if r.Status == 401 {
			t.Errorf("GitHub refused %s %s", r.Method, r.Path)
		}
	}
	if logs := p.logs.String(); !strings.Contains(logs, "authenticated as the GitHub App's installation") {
		t.Errorf("the log does not say it is the app:\n%s", logs)
	}
}

// GitHub refuses the app — a key that is not the app's (401 on the JWT),
// an installation the app does not have (404) — and trainbot serve stops
// at start with a message naming the settings to check, rather than at
// the first train.
func TestE2EGitHubAppRefusedStopsStart(t *testing.T) {
	t.Parallel()
	key, other := githubfake.AppKeys(t)
	for _, tc := range []struct {
		name         string
		key          *rsa.PrivateKey
		installation string
		wants        []string
	}{
		{"not the app's key", other, strconv.Itoa(e2eInstID), []string{`GitHub refused the JSON Web Token of GitHub App 31337 (401 Unauthorized: "A JSON web token could not be decoded")`, "GITHUB_APP_PRIVATE_KEY"}},
		{"unknown installation", key, "99", []string{"GitHub App 31337 has no installation 99", "GITHUB_APP_INSTALLATION_ID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "", "")
			w.gh.InstallApp(githubfake.App{ID: e2eAppID, Slug: e2eAppSlug, InstallationID: e2eInstID, PublicKey: &key.PublicKey})
			settings := serveSettings(w.slack, w.gh, "", "", t.TempDir(), testenv.FreeAddr(t), appSettings(t, tc.key))
			settings["GITHUB_APP_INSTALLATION_ID"] = tc.installation
			p := startProcess(t, "refused", settings)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				t.Fatalf("trainbot did not stop:\n%s", p.logs.String())
			}
			if code := p.cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			contains(t, p.logs.String(), tc.wants...)
			t.Logf("trainbot said: %s", strings.TrimSpace(p.logs.String()[strings.LastIndex(strings.TrimSpace(p.logs.String()), "\n")+1:]))
		})
	}
}

// GitHub's rate limit on the first installation token request (a 403
// with X-RateLimit-Remaining: 0) is not a wrong setting: trainbot serve
// warns and starts rather than stopping (a crash loop in Kubernetes), and
// the next GitHub request asks for the token again.
func TestE2EGitHubAppRateLimitedStarts(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "", "")
	key := testAppKey(t)
	w.gh.InstallApp(githubfake.App{ID: e2eAppID, Slug: e2eAppSlug, InstallationID: e2eInstID, PublicKey: &key.PublicKey})
	w.gh.AddCommits("main", 2)
	w.gh.SetRunSteps(1)
	w.gh.Fail("POST", "app/installations/"+strconv.Itoa(e2eInstID)+"/access_tokens", githubfake.PrimaryRateLimit(time.Now().Add(time.Hour)))
	p := w.start("app", 1, appSettings(t, key))
	contains(t, p.logs.String(), "no installation token yet", "rate limit")
	contains(t, w.slash(eRel, "cut dev"), "v0.1.0-dev.1")
	w.waitMessage(30*time.Second, "v0.1.0-dev.1", "is deployed")
}
