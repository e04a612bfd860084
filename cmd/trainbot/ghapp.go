package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/deploy"
)

// githubApp reads the GitHub App settings: nil and false when none is
// set; otherwise every one must be, and each problem goes to bad. set
// reports whether any was given.
func (s Settings) githubApp(bad func(name, format string, args ...any)) (app *deploy.App, set bool) {
	if s.GitHubAppID == "" && s.GitHubAppInstall == "" && s.GitHubAppKey == "" && s.GitHubAppKeyFile == "" {
		return nil, false
	}
	ok := true
	id := func(name, val, what string) int64 {
		if val == "" {
			bad(name, "required with the other GitHub App settings: %s", what)
			ok = false
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil || n <= 0 {
			if showable.MatchString(strings.TrimSpace(val)) {
				bad(name, "%q is not a positive whole number: %s", val, what)
			} else {
				bad(name, "is not a positive whole number (the value is not shown: it looks like it may be a secret): %s", what)
			}
			ok = false
		}
		return n
	}
	appID := id("GITHUB_APP_ID", s.GitHubAppID, "the App ID on the app's settings page (About), not its client id (Iv1.…) or its name")
	instID := id("GITHUB_APP_INSTALLATION_ID", s.GitHubAppInstall, "the number at the end of the installation's settings page (…/settings/installations/ID)")

	var pemText []byte
	keyVar := "GITHUB_APP_PRIVATE_KEY"
	switch {
	case s.GitHubAppKey != "" && s.GitHubAppKeyFile != "":
		bad("GITHUB_APP_PRIVATE_KEY_FILE", "set GITHUB_APP_PRIVATE_KEY (the PEM text) or GITHUB_APP_PRIVATE_KEY_FILE (its path), not both: unset one")
		return nil, true
	case s.GitHubAppKey != "":
		// A key in a one-line .env file or a YAML string may arrive with
		// its line breaks written as \n.
		text := s.GitHubAppKey
		if !strings.Contains(text, "\n") {
			text = strings.ReplaceAll(text, `\n`, "\n")
		}
		pemText = []byte(text)
	case s.GitHubAppKeyFile != "":
		keyVar = "GITHUB_APP_PRIVATE_KEY_FILE"
		b, err := os.ReadFile(s.GitHubAppKeyFile)
		if err != nil {
			bad(keyVar, "cannot read the key file %s: %s; give the path of the .pem file GitHub downloaded when you generated the app's private key",
				shownPath(s.GitHubAppKeyFile), readProblem(err))
			return nil, true
		}
		pemText = b
	default:
		bad("GITHUB_APP_PRIVATE_KEY", "required with the other GitHub App settings: the app's private key as PEM text, or its file's path in GITHUB_APP_PRIVATE_KEY_FILE")
		return nil, true
	}
	key, err := deploy.ParseAppKey(pemText)
	if err != nil {
		bad(keyVar, "%v (the key is not shown)", err)
		return nil, true
	}
	if !ok {
		return nil, true
	}
	return &deploy.App{ID: appID, InstallationID: instID, Key: key}, true
}

// showable is an app or installation id that may be quoted back in an
// error: anything else (a key pasted into the wrong setting) is not shown.
var showable = regexp.MustCompile(`^[A-Za-z0-9.]{1,40}$`)

// shownPath is the key file's path quoted for an error when it looks like
// a path; a key pasted in its place goes to the log otherwise, since Go's
// file errors hold the path.
func shownPath(path string) string {
	if len(path) > 255 || strings.ContainsAny(path, "\r\n") || strings.Contains(path, "-----BEGIN") || strings.Contains(path, `\n`) {
		return "(the path is not shown: it looks like a key, not a path)"
	}
	return strconv.Quote(path)
}

// readProblem says why a file could not be read without quoting the
// path, which err holds.
func readProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "it does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied: trainbot's user may not read it"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "it cannot be read: " + pe.Err.Error()
	}
	return "it cannot be read"
}

// githubClient builds the GitHub client from the settings: as the GitHub
// App's installation when one is set, else with GITHUB_TOKEN. An app's
// first installation token is asked at once: when GitHub refuses it (a
// wrong id or key, an unknown installation), serve stops with the reason;
// when GitHub cannot be reached, does not answer within checkTimeout, or
// its rate limit holds the token back, it warns and asks again at the
// first GitHub request.
func githubClient(ctx context.Context, c Config, httpClient *http.Client, log *slog.Logger, checkTimeout time.Duration) (*github.Client, error) {
	if c.GitHubApp == nil {
		return deploy.NewClient(c.GitHubToken, c.GitHubAPIURL, httpClient, deploy.WithLogger(log))
	}
	gh, err := deploy.NewAppClient(*c.GitHubApp, c.GitHubAPIURL, httpClient, deploy.WithLogger(log))
	if err != nil {
		return nil, err
	}
	attrs := []any{"app_id", c.GitHubApp.ID, "installation_id", c.GitHubApp.InstallationID}
	checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
	err = deploy.CheckApp(checkCtx, gh)
	cancel()
	var ae *deploy.AppAuthError
	switch {
	case err == nil:
		log.Info("GitHub: authenticated as the GitHub App's installation", attrs...)
	case errors.As(err, &ae) && ae.Refused():
		return nil, err
	default:
		log.Warn("GitHub: no installation token yet; trainbot asks again at its first GitHub request", append(attrs, "err", err)...)
	}
	return gh, nil
}

// appCheckTimeout bounds serve's first installation token request: a
// GitHub that accepts the connection but does not answer must not keep
// the replica from serving /healthz.
const appCheckTimeout = 15 * time.Second
