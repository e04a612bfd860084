package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

const (
	testAppID   = 31337
	testInstID  = 4242
	testAppSlug = "trainbot-acme"
)

// appEnv is a Repo authenticated as a GitHub App installation on a fake
// that knows the app (with the public half of registered) and refuses
// anything but its installation tokens. Its clock starts at the wall
// clock's time, as ghinstallation signs its JWTs with that.
type appEnv struct {
	fake   *githubfake.Fake
	clock  *trainstest.Clock
	client *github.Client
	gh     *GitHub
}

func newAppEnv(t *testing.T, registered *rsa.PublicKey, apiURL func(*githubfake.Fake) string, installation int64) *appEnv {
	t.Helper()
	key, _ := githubfake.AppKeys(t)
	clock := trainstest.NewClock(time.Now())
	fake := githubfake.New(t, githubfake.WithClock(clock))
	fake.InstallApp(githubfake.App{ID: testAppID, Slug: testAppSlug, InstallationID: testInstID, PublicKey: registered})
	sl := &recSleeper{clock: clock}
	opts := []Option{WithClock(clock), WithSleeper(sl.Sleep), WithJitter(func() float64 { return 0.5 })}
	u := fake.URL()
	if apiURL != nil {
		u = apiURL(fake)
	}
	client, err := NewAppClient(App{ID: testAppID, InstallationID: installation, Key: key, Repo: fake.Repo()}, u, fake.HTTPClient(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := New(client, Config{Owner: fake.Owner(), Repo: fake.Repo(), PublishWorkflow: "publish-images.yaml"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &appEnv{fake: fake, clock: clock, client: client, gh: gh}
}

// A train's GitHub work — read the head, tag, wait for the publish run,
// dispatch — done as the app's installation, on GitHub.com's URL layout
// and on GitHub Enterprise's (/api/v3/, where the token is asked at
// /api/v3/app/installations/…): one installation token serves it all, and
// the tag and both runs are the app's bot's.
func TestAppTagsAndDispatches(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	for name, apiURL := range map[string]func(*githubfake.Fake) string{
		"enterprise":          func(f *githubfake.Fake) string { return f.URL() + "api/v3/" },
		"enterprise, no path": func(f *githubfake.Fake) string { return f.URL() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newAppEnv(t, &key.PublicKey, apiURL, testInstID)
			ctx := t.Context()
			head, err := e.gh.Head(ctx)
			if err != nil {
				t.Fatalf("head: %v", err)
			}
			if err := e.gh.CreateTag(ctx, "v0.1.0-dev.1", head.SHA, "dev train"); err != nil {
				t.Fatalf("tag: %v", err)
			}
			e.fake.SetRunSteps(1)
			if _, err := e.gh.WaitPublish(ctx, "v0.1.0-dev.1"); err != nil {
				t.Fatalf("wait publish: %v", err)
			}
			if err := e.gh.Dispatch(ctx, "v0.1.0-dev.1", map[string]string{"environment": "dev", "release_type": "dev"}); err != nil {
				t.Fatalf("dispatch: %v", err)
			}
			bot := testAppSlug + "[bot]"
			if tag, _ := e.fake.Tag("v0.1.0-dev.1"); tag.Tagger != bot || tag.Commit != head.SHA {
				t.Errorf("tag %+v, want one on %s tagged by %s", tag, head.SHA, bot)
			}
			for _, wf := range []string{"publish-images.yaml", "deploy-simple.yaml"} {
				if runs := e.fake.Runs(wf); len(runs) != 1 || runs[0].Actor != bot {
					t.Errorf("%s runs %+v, want one by %s", wf, runs, bot)
				}
			}
			if toks := e.fake.InstallationTokens(); len(toks) != 1 {
				t.Errorf("%d installation tokens asked, want 1 for the whole train", len(toks))
			}
			// go-github's Enterprise URLs add /api/v3/ to a URL without it.
			want := "/api/v3/app/installations/4242/access_tokens"
			for _, r := range e.fake.Requests() {
				if strings.Contains(r.Path, "/app/") && r.Path != want {
					t.Errorf("token asked at %s, want %s", r.Path, want)
				}
			}
		})
	}
}

// On GitHub.com the token is asked at https://api.github.com/app/…, on
// GitHub Enterprise Server below its /api/v3/.
func TestAppTokenURL(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	for apiURL, want := range map[string]string{
		"":                               "https://api.github.com",
		DefaultAPIURL:                    "https://api.github.com",
		"https://ghe.example.com/":       "https://ghe.example.com/api/v3",
		"https://ghe.example.com/api/v3": "https://ghe.example.com/api/v3",
	} {
		c, err := NewAppClient(App{ID: 1, InstallationID: 2, Key: key}, apiURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Client().Transport.(*appTransport).inst.BaseURL; got != want {
			t.Errorf("GITHUB_API_URL %q: tokens asked below %q, want %q", apiURL, got, want)
		}
	}
}

// A token is replaced before it expires: the fake issues tokens that live
// 62 s, which ghinstallation replaces a minute before their expiry, so
// after one to two seconds (GitHub's expires_at is to the second, so a
// token may be up to 1 s shorter: 61 s could leave it a millisecond).
// Requests go on until a second token was issued (the
// observable condition; ghinstallation reads the wall clock, so the loop
// paces itself on it); none of them is refused, and the new token was
// issued while the old one still lived.
func TestAppTokenRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	fake := githubfake.New(t) // the system clock: the one ghinstallation reads
	fake.InstallApp(githubfake.App{ID: testAppID, Slug: testAppSlug, InstallationID: testInstID, PublicKey: &key.PublicKey})
	fake.SetTokenLifetime(62 * time.Second)
	var logs syncbuf.Buffer
	client, err := NewAppClient(App{ID: testAppID, InstallationID: testInstID, Key: key}, fake.URL(), fake.HTTPClient(),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	gh, err := New(client, Config{Owner: fake.Owner(), Repo: fake.Repo()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	requests := 0
	for len(fake.InstallationTokens()) < 2 {
		if _, err := gh.Head(ctx); err != nil {
			t.Fatalf("request %d (tokens %+v): %v", requests+1, fake.InstallationTokens(), err)
		}
		requests++
		select {
		case <-ctx.Done():
			t.Fatalf("no second token within 10s after %d requests: %+v", requests, fake.InstallationTokens())
		case <-time.After(20 * time.Millisecond):
		}
	}
	toks := fake.InstallationTokens()
	if !toks[1].IssuedAt.Before(toks[0].ExpiresAt) {
		t.Errorf("second token issued at %s, after the first expired at %s", toks[1].IssuedAt, toks[0].ExpiresAt)
	}
	if requests < 2 {
		t.Errorf("%d requests: the first token was replaced at once, not when it neared expiry", requests)
	}
	for _, r := range fake.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("refused: %s %s", r.Method, r.Path)
		}
	}
	if n := strings.Count(logs.String(), "GitHub App installation token issued"); n != 2 {
		t.Errorf("%d tokens logged, want 2:\n%s", n, logs.String())
	}
	t.Logf("first token replaced after %d requests", requests)
}

// A token that GitHub holds expired (its clock ahead of ours by over 59
// minutes) is refused with 401 Bad credentials: the Repo's call fails
// with GitHub's error, not with silence.
func TestAppExpiredTokenRefused(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	e := newAppEnv(t, &key.PublicKey, nil, testInstID)
	if _, err := e.gh.Head(t.Context()); err != nil {
		t.Fatalf("with a live token: %v", err)
	}
	e.clock.Advance(time.Hour)
	_, err := e.gh.Head(t.Context())
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusUnauthorized || ge.Message != "Bad credentials" {
		t.Fatalf("err %v, want GitHub's 401 Bad credentials", err)
	}
	if !errors.Is(err, trains.ErrRefused) || !strings.Contains(err.Error(), "bad credentials for the GitHub App's installation token") ||
		strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("err %q: want a refusal that speaks of the app's installation token, not GITHUB_TOKEN", err)
	}
}

// GitHub's refusals of the app's credentials come back as an
// *AppAuthError that names the setting to check, at start (CheckApp) and
// from any call; the token is asked once per call, not retried.
func TestAppRefusedSaysWhatToCheck(t *testing.T) {
	t.Parallel()
	key, other := githubfake.AppKeys(t)
	for _, tc := range []struct {
		name         string
		registered   *rsa.PublicKey
		installation int64
		status       int
		wants        []string
	}{
		{"another key", &other.PublicKey, testInstID, 401, []string{"GitHub refused the JSON Web Token of GitHub App 31337", `"A JSON web token could not be decoded"`, "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "clock"}},
		{"unknown installation", &key.PublicKey, 99, 404, []string{"GitHub App 31337 has no installation 99", "GITHUB_APP_INSTALLATION_ID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newAppEnv(t, tc.registered, nil, tc.installation)
			for what, call := range map[string]func() error{
				"CheckApp": func() error { return CheckApp(t.Context(), e.client) },
				"Head":     func() error { _, err := e.gh.Head(t.Context()); return err },
			} {
				before := e.fake.Count("POST", "app/")
				err := call()
				var ae *AppAuthError
				if !errors.As(err, &ae) || ae.Status != tc.status || !ae.Refused() {
					t.Fatalf("%s: err %v, want an AppAuthError with status %d", what, err, tc.status)
				}
				for _, w := range tc.wants {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q does not say %q", what, err, w)
					}
				}
				if strings.Contains(err.Error(), "PRIVATE KEY-----") || strings.Contains(err.Error(), "http://") {
					t.Errorf("%s: the error shows the key or a URL: %v", what, err)
				}
				t.Logf("%s: %v", what, err)
				if what == "Head" && !errors.Is(err, trains.ErrRefused) {
					t.Errorf("Head: err %v is not trains.ErrRefused", err)
				}
				if n := e.fake.Count("POST", "app/") - before; n != 1 {
					t.Errorf("%s: the token was asked %d times, want 1", what, n)
				}
			}
			if toks := e.fake.InstallationTokens(); len(toks) != 0 {
				t.Errorf("tokens issued: %+v", toks)
			}
		})
	}
}

// A rate limit on the installation token request (a 429, or a 403 with
// X-RateLimit-Remaining: 0 or a Retry-After) is not a wrong setting: the
// *AppAuthError is not Refused (serve starts and asks again; a train is
// not failed for good) and says it is a rate limit; once GitHub answers
// again, the token is issued.
func TestAppTokenRateLimitedIsTransient(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	route := "app/installations/4242/access_tokens"
	// Each waits longer than the transport waits (maxWait), or lasts
	// through its retries (n faults), so the token request fails.
	for _, tc := range []struct {
		name  string
		fault githubfake.Fault
		n     int
	}{
		{"429", githubfake.TooManyRequests(10 * time.Minute), 1},
		{"429 without Retry-After", githubfake.TooManyRequests(0), 1 + maxRetries},
		{"primary rate limit", githubfake.PrimaryRateLimit(time.Now().Add(10 * time.Minute)), 1},
		{"secondary rate limit", githubfake.SecondaryRateLimit(10 * time.Minute), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newAppEnv(t, &key.PublicKey, nil, testInstID)
			fail := func() {
				for range tc.n {
					e.fake.Fail(http.MethodPost, route, tc.fault)
				}
			}
			fail()
			err := CheckApp(t.Context(), e.client)
			var ae *AppAuthError
			if !errors.As(err, &ae) || ae.Status != tc.fault.Status {
				t.Fatalf("CheckApp: err %v, want an AppAuthError with status %d", err, tc.fault.Status)
			}
			if ae.Refused() {
				t.Errorf("CheckApp: a rate limit counts as refused (serve would stop): %v", err)
			}
			if !strings.Contains(err.Error(), "rate limit") || strings.Contains(err.Error(), "suspended") {
				t.Errorf("CheckApp: %q does not say it is a rate limit", err)
			}
			if n := e.fake.PendingFaults(); n != 0 {
				t.Fatalf("%d faults left after CheckApp", n)
			}
			fail()
			if _, err := e.gh.Head(t.Context()); errors.Is(err, trains.ErrRefused) {
				t.Errorf("Head: a rate-limited token request fails the train for good: %v", err)
			}
			if _, err := e.gh.Head(t.Context()); err != nil {
				t.Errorf("Head once GitHub answers again: %v", err)
			}
		})
	}
}

// The key is read from PKCS#1 or PKCS#8 PEM; anything else is refused
// with a reason and never quoted.
func TestParseAppKey(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec8, _ := x509.MarshalPKCS8PrivateKey(ec)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	for _, tc := range []struct {
		name, text, err string
	}{
		{"pkcs1", enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), ""},
		{"pkcs8", enc("PRIVATE KEY", pkcs8), ""},
		{"pkcs1 with text around", "key:\n" + enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)) + "\n", ""},
		{"not pem", "ghs_s3cret", "is not PEM text"},
		{"public key", enc("PUBLIC KEY", pub), `type "PUBLIC KEY", not a private key`},
		{"ec key", enc("PRIVATE KEY", ec8), "not an RSA one"},
		{"corrupt pkcs1", enc("RSA PRIVATE KEY", []byte("s3cret")), "does not parse as a PKCS#1 RSA key"},
		{"corrupt pkcs8", enc("PRIVATE KEY", []byte("s3cret")), "does not parse as a PKCS#8 key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseAppKey([]byte(tc.text))
			switch {
			case tc.err == "" && (err != nil || !k.Equal(key)):
				t.Fatalf("got %v, want the key", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("got %v, want an error with %q", err, tc.err)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Errorf("the error quotes the text: %v", err)
			}
		})
	}
}

// An installation without a permission trainbot needs — here Actions:
// read only, so no dispatch — is refused by GitHub with 403 "Resource not
// accessible by integration", and the Repo says which permission is
// missing; what the installation may do still works.
func TestAppMissingPermissionSaid(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	e := newAppEnv(t, &key.PublicKey, nil, testInstID)
	e.fake.InstallApp(githubfake.App{ID: testAppID, Slug: testAppSlug, InstallationID: testInstID, PublicKey: &key.PublicKey,
		Permissions: map[string]string{"contents": "write", "actions": "read", "metadata": "read"}})
	ctx := t.Context()
	head, err := e.gh.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.gh.CreateTag(ctx, "v0.1.0-dev.1", head.SHA, "dev train"); err != nil {
		t.Fatalf("tag with contents:write: %v", err)
	}
	err = e.gh.Dispatch(ctx, "v0.1.0-dev.1", map[string]string{"environment": "dev", "release_type": "dev"})
	if !errors.Is(err, trains.ErrRefused) || !strings.Contains(err.Error(), "lacks actions:write on acme/chain (HTTP 403: Resource not accessible by integration)") {
		t.Fatalf("dispatch without actions:write: %v", err)
	}
	if got := e.fake.Dispatches(); len(got) != 0 {
		t.Errorf("dispatches %+v, want none", got)
	}
}

// A host clock some minutes slow (GitHub's is ahead) or up to a minute
// fast still gets a token: the JWT is issued a minute back and expires
// nine minutes on, within GitHub's ten, as GitHub recommends.
func TestAppTokenDespiteClockSkew(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	for _, skew := range []time.Duration{5 * time.Minute, -50 * time.Second} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			e := newAppEnv(t, &key.PublicKey, nil, testInstID)
			e.clock.Advance(skew) // GitHub's clock, against this host's
			if _, err := e.gh.Head(t.Context()); err != nil {
				t.Fatalf("with GitHub's clock %s off this host's: %v", skew, err)
			}
		})
	}
}
