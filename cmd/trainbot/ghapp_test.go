package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/deploy"
	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/syncbuf"
)

// testAppKey is an RSA key for the GitHub App settings, made once.
func testAppKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	key, _ := githubfake.AppKeys(t)
	return key
}

// pkcs1PEM is key as GitHub hands it out.
func pkcs1PEM(key *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// serveReady is settings that serve accepts but for GitHub's credentials.
func serveReady(t *testing.T) Settings {
	s := defaults(t)
	s.SlackAppToken, s.SlackBotToken, s.Repo, s.Channel = "xapp-1", "xoxb-1", "acme/chain", "C0VALIDATR"
	return s
}

// A GitHub App in place of GITHUB_TOKEN: its three settings parse into
// deploy.App (the key as PEM text, PKCS#1 or PKCS#8, with real or written
// line breaks, or from a file), limited to the released repository; read
// from the environment under their documented names.
func TestGitHubAppSettings(t *testing.T) {
	key := testAppKey(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs8PEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	file := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(file, []byte(pkcs8PEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]map[string]string{
		"pkcs1 text":         {"GITHUB_APP_PRIVATE_KEY": pkcs1PEM(key)},
		"pkcs8 text":         {"GITHUB_APP_PRIVATE_KEY": pkcs8PEM},
		"text on one line":   {"GITHUB_APP_PRIVATE_KEY": strings.ReplaceAll(pkcs1PEM(key), "\n", `\n`)},
		"pkcs8 file":         {"GITHUB_APP_PRIVATE_KEY_FILE": file},
		"ids with spaces ok": {"GITHUB_APP_PRIVATE_KEY": pkcs1PEM(key), "GITHUB_APP_ID": " 31337 "},
	} {
		t.Run(name, func(t *testing.T) {
			serveReady(t) // clears the environment
			env := map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "TRAINBOT_REPO": "acme/chain",
				"TRAINBOT_CHANNEL": "C0VALIDATR", "GITHUB_APP_ID": "31337", "GITHUB_APP_INSTALLATION_ID": "4242"}
			for k, v := range set {
				env[k] = v
			}
			for k, v := range env {
				t.Setenv(k, v)
			}
			s, err := LoadSettings()
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Parse(ModeServe)
			if err != nil {
				t.Fatalf("serve with a GitHub App and no GITHUB_TOKEN: %v", err)
			}
			a := c.GitHubApp
			if a == nil || a.ID != 31337 || a.InstallationID != 4242 || a.Repo != "chain" || !a.Key.Equal(key) || c.GitHubToken != "" {
				t.Errorf("GitHubApp %+v, token %q: want app 31337, installation 4242, repo chain, the key", a, c.GitHubToken)
			}
		})
	}
	s := serveReady(t)
	s.GitHubToken = "ghp_x"
	if c, err := s.Parse(ModeServe); err != nil || c.GitHubApp != nil {
		t.Errorf("with GITHUB_TOKEN only: app %+v, err %v", c.GitHubApp, err)
	}
}

// Each bad GitHub App setting is reported on a line naming its variable
// and saying what to do; the key is never shown.
func TestGitHubAppSettingsRefused(t *testing.T) {
	key := testAppKey(t)
	good := pkcs1PEM(key)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec8, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ec8}))
	secretPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("s3cret-key-bytes")}))
	missing := filepath.Join(t.TempDir(), "nope.pem")
	for _, tc := range []struct {
		name  string
		mode  Mode
		set   func(*Settings)
		wants []string // lines, each a substring of one problem line
	}{
		{"neither token nor app", ModeServe, func(s *Settings) {},
			[]string{"GITHUB_TOKEN: required for serve unless TRAINBOT_DRY_RUN=true, or authenticate as a GitHub App with GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY"}},
		{"token and app", ModeServe, func(s *Settings) {
			s.GitHubToken, s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "ghp_x", "1", "2", good
		}, []string{"GITHUB_TOKEN: set either GITHUB_TOKEN or the GitHub App (GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID, GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE), not both: unset one"}},
		{"token and a stray app id", ModeConsole, func(s *Settings) { s.GitHubToken, s.GitHubAppID = "ghp_x", "1" },
			[]string{"GITHUB_TOKEN: set either", "GITHUB_APP_INSTALLATION_ID: required with the other GitHub App settings", "GITHUB_APP_PRIVATE_KEY: required with the other GitHub App settings"}},
		{"app id alone", ModeServe, func(s *Settings) { s.GitHubAppID = "1" },
			[]string{"GITHUB_APP_INSTALLATION_ID: required with the other GitHub App settings: the number at the end of the installation's settings page",
				"GITHUB_APP_PRIVATE_KEY: required with the other GitHub App settings: the app's private key as PEM text, or its file's path in GITHUB_APP_PRIVATE_KEY_FILE"}},
		{"key alone", ModeServe, func(s *Settings) { s.GitHubAppKey = good },
			[]string{"GITHUB_APP_ID: required with the other GitHub App settings: the App ID on the app's settings page", "GITHUB_APP_INSTALLATION_ID: required"}},
		{"client id for app id", ModeServe, func(s *Settings) {
			s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "Iv1.8a61f9b3a7aba766", "2", good
		},
			[]string{`GITHUB_APP_ID: "Iv1.8a61f9b3a7aba766" is not a positive whole number: the App ID on the app's settings page (About), not its client id`}},
		{"zero installation", ModeServe, func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "1", "0", good },
			[]string{`GITHUB_APP_INSTALLATION_ID: "0" is not a positive whole number`}},
		{"key and key file", ModeServe, func(s *Settings) {
			s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey, s.GitHubAppKeyFile = "1", "2", good, "/etc/app.pem"
		}, []string{"GITHUB_APP_PRIVATE_KEY_FILE: set GITHUB_APP_PRIVATE_KEY (the PEM text) or GITHUB_APP_PRIVATE_KEY_FILE (its path), not both"}},
		{"key file missing", ModeServe, func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKeyFile = "1", "2", missing },
			[]string{"GITHUB_APP_PRIVATE_KEY_FILE: cannot read the key file " + strconv.Quote(missing) + ": it does not exist; give the path of the .pem file"}},
		{"key file a directory", ModeServe, func(s *Settings) {
			s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKeyFile = "1", "2", filepath.Dir(missing)
		},
			[]string{"GITHUB_APP_PRIVATE_KEY_FILE: cannot read the key file " + strconv.Quote(filepath.Dir(missing)) + ": it cannot be read: is a directory; give the path"}},
		{"key not PEM", ModeServe, func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "1", "2", "s3cret-key-bytes" },
			[]string{"GITHUB_APP_PRIVATE_KEY: is not PEM text: it should start -----BEGIN RSA PRIVATE KEY----- (the .pem file GitHub downloads when you generate a private key) (the key is not shown)"}},
		{"key corrupt", ModeServe, func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "1", "2", secretPEM },
			[]string{"GITHUB_APP_PRIVATE_KEY: holds an RSA PRIVATE KEY block that does not parse as a PKCS#1 RSA key: download a new private key"}},
		{"key not RSA", ModeServe, func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "1", "2", ecPEM },
			[]string{"GITHUB_APP_PRIVATE_KEY: holds a *ecdsa.PrivateKey key, not an RSA one: GitHub Apps sign with RSA keys"}},
		{"public key", ModeServe, func(s *Settings) {
			pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
			s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "1", "2", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
		}, []string{`GITHUB_APP_PRIVATE_KEY: holds a PEM block of type "PUBLIC KEY", not a private key`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serveReady(t)
			tc.set(&s)
			_, err := s.Parse(tc.mode)
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, want := range tc.wants {
				found := false
				for _, l := range lines {
					found = found || strings.Contains(l, want)
				}
				if !found {
					t.Errorf("no line with %q in:\n%v", want, err)
				}
			}
			if len(lines) != len(tc.wants) {
				t.Errorf("%d problems, want %d:\n%v", len(lines), len(tc.wants), err)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "MII") {
				t.Errorf("the key shows in:\n%v", err)
			}
		})
	}
}

// The app docs/github-app-manifest.json creates has the permissions the
// tests' GitHub grants (githubfake.DefaultAppPermissions), and the
// registration link in docs/github.md asks the same.
func TestGitHubAppManifestPermissions(t *testing.T) {
	raw, err := os.ReadFile("../../docs/github-app-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name        string            `json:"name"`
		URL         string            `json:"url"`
		Permissions map[string]string `json:"default_permissions"`
		Hook        struct {
			Active bool `json:"active"`
		} `json:"hook_attributes"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("docs/github-app-manifest.json: %v", err)
	}
	if diff := cmp.Diff(githubfake.DefaultAppPermissions(), m.Permissions); diff != "" {
		t.Errorf("manifest permissions (-tested +manifest):\n%s", diff)
	}
	if m.Name == "" || m.URL == "" || m.Hook.Active {
		t.Errorf("manifest: want a name, a url and no active webhook, got %+v", m)
	}
	doc, err := os.ReadFile("../../docs/github.md")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Permissions {
		if !strings.Contains(string(doc), "&"+k+"="+v) {
			t.Errorf("docs/github.md's registration link lacks &%s=%s", k, v)
		}
	}
}

// A private key pasted into the wrong GitHub App setting (the key file's
// path, the app id or the installation id) never reaches the start-up
// error, which goes to the log: each setting is still named, with what
// to do.
func TestGitHubAppSettingsHideAPastedKey(t *testing.T) {
	key := pkcs1PEM(testAppKey(t))
	lines := strings.Split(key, "\n")
	secret := lines[len(lines)/2] // a line from the middle of the key: distinctive
	oneLine := strings.ReplaceAll(key, "\n", `\n`)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		set  func(*Settings)
		want string
	}{
		{"key in the key file's path", func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKeyFile = "1", "2", key },
			"GITHUB_APP_PRIVATE_KEY_FILE: cannot read the key file (the path is not shown: it looks like a key, not a path): it does not exist; give the path"},
		{"key on one line in the key file's path", func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKeyFile = "1", "2", oneLine },
			"GITHUB_APP_PRIVATE_KEY_FILE: cannot read the key file (the path is not shown: it looks like a key, not a path)"},
		{"key body alone in the key file's path", func(s *Settings) {
			s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKeyFile = "1", "2", dir+"/"+secret+secret+secret+secret
		},
			"GITHUB_APP_PRIVATE_KEY_FILE: cannot read the key file (the path is not shown: it looks like a key, not a path)"},
		{"key in the app id", func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = key, "2", key },
			"GITHUB_APP_ID: is not a positive whole number (the value is not shown: it looks like it may be a secret): the App ID"},
		{"key line in the app id", func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = secret, "2", key },
			"GITHUB_APP_ID: is not a positive whole number (the value is not shown: it looks like it may be a secret)"},
		{"key in the installation id", func(s *Settings) { s.GitHubAppID, s.GitHubAppInstall, s.GitHubAppKey = "1", oneLine, key },
			"GITHUB_APP_INSTALLATION_ID: is not a positive whole number (the value is not shown: it looks like it may be a secret): the number at the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serveReady(t)
			tc.set(&s)
			_, err := s.Parse(ModeServe)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[10:30]) || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("the key shows in:\n%v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("no %q in:\n%v", tc.want, err)
			}
		})
	}
}

// A GitHub that accepts the connection for the first installation token
// but never answers does not hold serve's start: after the check's
// deadline it warns and carries on, asking again at the first request.
func TestGitHubAppCheckHasADeadline(t *testing.T) {
	t.Parallel()
	asked := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-release // never answers while the test runs
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: srv.Close waits for the handler
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	c := Config{GitHubAPIURL: srv.URL + "/", GitHubApp: &deploy.App{ID: 31337, InstallationID: 4242, Key: testAppKey(t), Repo: "chain"}}

	type result struct {
		gh  *github.Client
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		gh, err := githubClient(t.Context(), c, srv.Client(), log, 300*time.Millisecond)
		done <- result{gh, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || r.gh == nil {
			t.Fatalf("githubClient: %v, want a client and a warning", r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("githubClient still waits for GitHub after %s", time.Since(start).Round(time.Second))
	}
	select {
	case <-asked:
	default:
		t.Error("the installation token was not asked")
	}
	if got := logs.String(); !strings.Contains(got, "no installation token yet") || !strings.Contains(got, "WARN") {
		t.Errorf("no warning in the log:\n%s", got)
	}
}
