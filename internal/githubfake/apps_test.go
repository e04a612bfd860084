package githubfake_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
	github88 "github.com/google/go-github/v88/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

const (
	appID   = 424242
	instID  = 777
	appSlug = "trainbot-acme"
)

// appFake is a fake with the app installed, on clock.
func appFake(t *testing.T, clock githubfake.Clock) *githubfake.Fake {
	key, _ := githubfake.AppKeys(t)
	fake := githubfake.New(t, githubfake.WithClock(clock))
	fake.InstallApp(githubfake.App{ID: appID, Slug: appSlug, InstallationID: instID, PublicKey: &key.PublicKey})
	return fake
}

// installationClient is go-github authenticated as the installation through
// ghinstallation, as trainbot's deploy.NewAppClient is.
func installationClient(t *testing.T, fake *githubfake.Fake) (*github.Client, *ghinstallation.Transport) {
	t.Helper()
	key, _ := githubfake.AppKeys(t)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	tr, err := ghinstallation.New(fake.HTTPClient().Transport, appID, instID, pemKey)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = strings.TrimSuffix(fake.URL(), "/")
	// Without options ghinstallation sends the body "null", which GitHub's
	// description does not allow; trainbot names its one repository.
	tr.InstallationTokenOptions = &github88.InstallationTokenOptions{Repositories: []string{fake.Repo()}}
	return fake.Point(github.NewClient(&http.Client{Transport: tr})), tr
}

// The installation's token works on the repository's endpoints, and what
// it makes — a tag object, a tag push's run, a dispatch's run — is
// attributed to the app's bot; one token serves many requests.
func TestInstallationTokenActsAsTheApp(t *testing.T) {
	t.Parallel()
	fake := appFake(t, trainstest.NewClock(time.Now()))
	gh, _ := installationClient(t, fake)
	ctx := t.Context()
	head := fake.Head("main")
	tag, _, err := gh.Git.CreateTag(ctx, fake.Owner(), fake.Repo(), &github.Tag{Tag: github.String("v0.1.0-dev.1"),
		Message: github.String("dev train"), Object: &github.GitObject{SHA: github.String(head), Type: github.String("commit")}})
	if err != nil {
		t.Fatalf("create tag object: %v", err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, fake.Owner(), fake.Repo(), &github.Reference{Ref: github.String("refs/tags/v0.1.0-dev.1"),
		Object: &github.GitObject{SHA: tag.SHA}}); err != nil {
		t.Fatalf("create ref: %v", err)
	}
	if _, err := gh.Actions.CreateWorkflowDispatchEventByFileName(ctx, fake.Owner(), fake.Repo(), "deploy-simple.yaml",
		github.CreateWorkflowDispatchEventRequest{Ref: "v0.1.0-dev.1", Inputs: map[string]any{"environment": "dev", "release_type": "dev"}}); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	bot := appSlug + "[bot]"
	if got := tag.GetTagger().GetName(); got != bot {
		t.Errorf("tagger %q, want %q", got, bot)
	}
	if got, want := tag.GetTagger().GetEmail(), "+"+bot+"@users.noreply.github.com"; !strings.HasSuffix(got, want) {
		t.Errorf("tagger email %q, want …%s", got, want)
	}
	if tg, _ := fake.Tag("v0.1.0-dev.1"); tg.Tagger != bot {
		t.Errorf("fake's tag: tagger %q, want %q", tg.Tagger, bot)
	}
	for _, wf := range []string{"publish-images.yaml", "deploy-simple.yaml"} {
		runs := fake.Runs(wf)
		if len(runs) != 1 || runs[0].Actor != bot {
			t.Errorf("%s runs %+v, want one by %s", wf, runs, bot)
		}
	}
	if toks := fake.InstallationTokens(); len(toks) != 1 || toks[0].AppID != appID || toks[0].InstallationID != instID {
		t.Errorf("installation tokens %+v, want one of app %d installation %d", toks, appID, instID)
	}
}

// Once an app is installed the fake is strict: an unknown token is
// refused, and an installation token past its expiry (on the fake's
// clock) is refused with 401 Bad credentials, as GitHub does; a new token
// works again.
func TestExpiredInstallationTokenRefused(t *testing.T) {
	t.Parallel()
	clock := trainstest.NewClock(time.Now())
	fake := appFake(t, clock)
	gh, tr := installationClient(t, fake)
	ctx := t.Context()
	if _, _, err := gh.Repositories.GetCommit(ctx, fake.Owner(), fake.Repo(), "main", nil); err != nil {
		t.Fatalf("with a fresh token: %v", err)
	}
	tok, err := tr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, fake, "token "+tok); status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", status, body)
	}
	if status, body := get(t, fake, "token ghs_madeup"); status != http.StatusUnauthorized || !strings.Contains(body, "Bad credentials") {
		t.Errorf("unknown token: %d %s, want 401 Bad credentials", status, body)
	}
	if status, _ := get(t, fake, ""); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}

	clock.Advance(githubfake.DefaultTokenLifetime) // ghinstallation reads the wall clock: it keeps the token
	_, _, err = gh.Repositories.GetCommit(ctx, fake.Owner(), fake.Repo(), "main", nil)
	var ghErr *github.ErrorResponse
	if !errors.As(err, &ghErr) || ghErr.Response.StatusCode != http.StatusUnauthorized || ghErr.Message != "Bad credentials" {
		t.Fatalf("expired token: err %v, want 401 Bad credentials", err)
	}
	if status, body := get(t, fake, "Bearer "+tok); status != http.StatusUnauthorized || !strings.Contains(body, `"Bad credentials"`) {
		t.Errorf("expired token: %d %s, want 401 Bad credentials", status, body)
	}
}

// get reads the main branch's head commit with the Authorization header auth.
func get(t *testing.T, fake *githubfake.Fake, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fake.URL()+"repos/"+fake.Owner()+"/"+fake.Repo()+"/commits/main", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, fake, req)
}

func do(t *testing.T, fake *githubfake.Fake, req *http.Request) (int, string) {
	t.Helper()
	resp, err := fake.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// signJWT signs claims with key as alg (RS256), by hand, so that the
// fake's check is not tested with the library it serves.
func signJWT(t *testing.T, key *rsa.PrivateKey, alg string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// The access_tokens endpoint checks the JWT as GitHub does and answers its
// errors in GitHub's shape (the contract check holds every answer to
// GitHub's description).
func TestInstallationTokenJWTRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	fake := appFake(t, trainstest.NewClock(now))
	key, other := githubfake.AppKeys(t)
	good := func() map[string]any {
		return map[string]any{"iss": fmt.Sprint(appID), "iat": now.Add(-30 * time.Second).Unix(), "exp": now.Add(90 * time.Second).Unix()}
	}
	with := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	for _, tc := range []struct {
		name   string
		auth   string
		inst   int
		body   string
		status int
		msg    string
	}{
		{"good", "Bearer " + signJWT(t, key, "RS256", good()), instID, "", 201, ""},
		{"iss as a number", "Bearer " + signJWT(t, key, "RS256", with("iss", appID)), instID, "", 201, ""},
		{"narrower permissions", "Bearer " + signJWT(t, key, "RS256", good()), instID, `{"permissions":{"contents":"read"}}`, 201, ""},
		{"unknown installation", "Bearer " + signJWT(t, key, "RS256", good()), 1, "", 404, "Not Found"},
		{"wider permissions", "Bearer " + signJWT(t, key, "RS256", good()), instID, `{"permissions":{"administration":"write"}}`, 422, "not granted"},
		{"another repository", "Bearer " + signJWT(t, key, "RS256", good()), instID, `{"repositories":["other"]}`, 422, "not accessible"},
		{"no authorization", "", instID, "", 401, "Requires authentication"},
		{"token scheme", "token " + signJWT(t, key, "RS256", good()), instID, "", 401, "Requires authentication"},
		{"not a JWT", "Bearer ghp_personal", instID, "", 401, "could not be decoded"},
		{"another key", "Bearer " + signJWT(t, other, "RS256", good()), instID, "", 401, "could not be decoded"},
		{"unknown app", "Bearer " + signJWT(t, key, "RS256", with("iss", "1")), instID, "", 401, "could not be decoded"},
		{"alg none", "Bearer " + strings.Join(strings.Split(signJWT(t, key, "none", good()), ".")[:2], ".") + ".", instID, "", 401, "could not be decoded"},
		{"expired", "Bearer " + signJWT(t, key, "RS256", with("exp", now.Add(-time.Second).Unix())), instID, "", 401, "'Expiration time' claim ('exp') must be"},
		{"exp 11 minutes ahead", "Bearer " + signJWT(t, key, "RS256", with("exp", now.Add(11*time.Minute).Unix())), instID, "", 401, "too far in the future"},
		{"GitHub's example: iat 60 s back, exp 10 minutes ahead", "Bearer " + signJWT(t, key, "RS256", map[string]any{"iss": fmt.Sprint(appID), "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix()}), instID, "", 201, ""},
		{"lives over 10 minutes, exp within 10", "Bearer " + signJWT(t, key, "RS256", map[string]any{"iss": fmt.Sprint(appID), "iat": now.Add(-9 * time.Minute).Unix(), "exp": now.Add(2 * time.Minute).Unix()}), instID, "", 201, ""},
		{"issued 60 s ahead (clock skew)", "Bearer " + signJWT(t, key, "RS256", with("iat", now.Add(time.Minute).Unix())), instID, "", 201, ""},
		{"issued in the future", "Bearer " + signJWT(t, key, "RS256", with("iat", now.Add(61*time.Second).Unix())), instID, "", 401, "'Issued at' claim ('iat')"},
		{"fractional iat", "Bearer " + signJWT(t, key, "RS256", with("iat", float64(now.Unix())-0.5)), instID, "", 401, "'Issued at' claim ('iat')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost,
				fmt.Sprintf("%sapp/installations/%d/access_tokens", fake.URL(), tc.inst), strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			status, body := do(t, fake, req)
			if status != tc.status || !strings.Contains(body, tc.msg) {
				t.Fatalf("%d %s, want %d with %q", status, body, tc.status, tc.msg)
			}
			if status != http.StatusCreated {
				if !strings.Contains(body, `"documentation_url"`) {
					t.Errorf("error body %s is not in GitHub's shape", body)
				}
				return
			}
			var got struct {
				Token       string            `json:"token"`
				ExpiresAt   time.Time         `json:"expires_at"`
				Permissions map[string]string `json:"permissions"`
				Selection   string            `json:"repository_selection"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got.Token, "ghs_") || !got.ExpiresAt.Equal(now.Add(time.Hour)) || got.Selection != "all" || got.Permissions["contents"] == "" {
				t.Errorf("token answer %s: want a ghs_ token expiring in an hour, repository_selection all, permissions", body)
			}
		})
	}
}

// An installation token may do what the installation's permissions allow
// and no more: 403 "Resource not accessible by integration" otherwise.
func TestInstallationPermissions(t *testing.T) {
	t.Parallel()
	key, _ := githubfake.AppKeys(t)
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(time.Now())))
	fake.InstallApp(githubfake.App{ID: appID, Slug: appSlug, InstallationID: instID, PublicKey: &key.PublicKey,
		Permissions: map[string]string{"contents": "read", "metadata": "read"}})
	gh, _ := installationClient(t, fake)
	ctx := t.Context()
	if _, _, err := gh.Repositories.GetCommit(ctx, fake.Owner(), fake.Repo(), "main", nil); err != nil {
		t.Errorf("read with contents:read: %v", err)
	}
	for what, call := range map[string]func() (*github.Response, error){
		"create a ref": func() (*github.Response, error) {
			_, r, err := gh.Git.CreateRef(ctx, fake.Owner(), fake.Repo(), &github.Reference{Ref: github.String("refs/tags/v1"), Object: &github.GitObject{SHA: github.String(fake.Head("main"))}})
			return r, err
		},
		"list runs": func() (*github.Response, error) {
			_, r, err := gh.Actions.ListWorkflowRunsByFileName(ctx, fake.Owner(), fake.Repo(), "deploy-simple.yaml", nil)
			return r, err
		},
		"list pulls": func() (*github.Response, error) {
			_, r, err := gh.PullRequests.List(ctx, fake.Owner(), fake.Repo(), nil)
			return r, err
		},
	} {
		resp, err := call()
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "Resource not accessible by integration") {
			t.Errorf("%s with contents:read only: %v, want 403 Resource not accessible by integration", what, err)
		}
	}
	if len(fake.Tags()) != 0 {
		t.Errorf("tags %v, want none", fake.Tags())
	}
}
