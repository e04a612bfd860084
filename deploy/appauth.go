package deploy

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v62/github"
	github88 "github.com/google/go-github/v88/github"
)

// App is a GitHub App installation trainbot authenticates as instead of a
// personal token (GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID,
// GITHUB_APP_PRIVATE_KEY): short-lived installation tokens, the app's own
// permissions, tags, commits and runs attributed to "<app>[bot]".
type App struct {
	// ID is the app's id (App settings → About → App ID).
	ID int64
	// InstallationID is the installation on the released repository's
	// owner: the number at the end of the installation's settings page.
	InstallationID int64
	// Key is one of the app's private keys.
	Key *rsa.PrivateKey
	// Repo, when not empty, is the one repository (its name, without the
	// owner) each installation token may reach, whatever else the
	// installation may.
	Repo string
}

// ParseAppKey parses the PEM text of a GitHub App's private key: an RSA
// key in PKCS#1 ("BEGIN RSA PRIVATE KEY", as GitHub hands it out) or
// PKCS#8 ("BEGIN PRIVATE KEY", as openssl pkcs8 makes it). Its errors never
// quote the text.
func ParseAppKey(pemText []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, errors.New("is not PEM text: it should start -----BEGIN RSA PRIVATE KEY----- (the .pem file GitHub downloads when you generate a private key)")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("holds an RSA PRIVATE KEY block that does not parse as a PKCS#1 RSA key: download a new private key from the app's settings")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("holds a PRIVATE KEY block that does not parse as a PKCS#8 key: download a new private key from the app's settings")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("holds a %T key, not an RSA one: GitHub Apps sign with RSA keys; download one from the app's settings", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("holds a PEM block of type %q, not a private key: use the .pem file GitHub downloads when you generate a private key (BEGIN RSA PRIVATE KEY)", block.Type)
	}
}

// NewAppClient builds the go-github client trainbot uses, as NewClient
// does, authenticated as the GitHub App's installation: each request
// carries an installation token, which
// github.com/bradleyfalzon/ghinstallation/v2 asks GitHub for
// (POST {GITHUB_API_URL}/app/installations/{id}/access_tokens, signed
// with a JWT of the app's key) and asks again a minute before it expires
// (they live an hour). The token request and every API request go through
// NewTransport (retries, conditional requests) on top of httpClient's
// transport. ghinstallation reads the wall clock, not WithClock's.
//
// A token GitHub refuses fails the request with an *AppAuthError that
// says which setting to check.
//
// https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app
func NewAppClient(app App, apiURL string, httpClient *http.Client, opts ...Option) (*github.Client, error) {
	if app.ID <= 0 || app.InstallationID <= 0 || app.Key == nil {
		return nil, errors.New("a GitHub App needs its id, its installation id and its private key")
	}
	hc := &http.Client{}
	if httpClient != nil {
		c := *httpClient
		hc = &c
	}
	below := NewTransport(hc.Transport, opts...)
	apps, err := ghinstallation.NewAppsTransportWithOptions(below, app.ID,
		ghinstallation.WithSigner(skewSigner{ghinstallation.NewRSASigner(jwt.SigningMethodRS256, app.Key)}))
	if err != nil {
		return nil, fmt.Errorf("set up the GitHub App's JSON Web Tokens: %w", err)
	}
	inst := ghinstallation.NewFromAppsTransport(apps, app.InstallationID)
	inst.Client = &http.Client{Transport: below, Timeout: hc.Timeout}
	// Never nil: ghinstallation would send the body "null", which GitHub's
	// description of the endpoint does not allow.
	inst.InstallationTokenOptions = &github88.InstallationTokenOptions{}
	if app.Repo != "" {
		inst.InstallationTokenOptions.Repositories = []string{app.Repo}
	}
	hc.Transport = &appTransport{inst: inst, app: app, log: buildOptions(opts).logger}
	c, err := pointAt(github.NewClient(hc), apiURL)
	if err != nil {
		return nil, err
	}
	// ghinstallation adds /app/installations/… to BaseURL as it is: give
	// it go-github's, which has GitHub Enterprise's /api/v3.
	inst.BaseURL = strings.TrimSuffix(c.BaseURL.String(), "/")
	return c, nil
}

// CheckApp asks GitHub for an installation token now, through gh, which
// NewAppClient built, so that a refused app fails at start rather than at
// the first train. It returns an *AppAuthError when GitHub refused.
func CheckApp(ctx context.Context, gh *github.Client) error {
	at, ok := gh.Client().Transport.(*appTransport)
	if !ok {
		return errors.New("CheckApp: the client was not built by NewAppClient")
	}
	_, err := at.token(ctx)
	return err
}

// appTransport puts an installation token on each request and explains
// GitHub's refusals of the app.
type appTransport struct {
	inst *ghinstallation.Transport
	app  App
	log  *slog.Logger

	mu   sync.Mutex
	last string // the token last seen, to log each new one once
}

func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.token(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.inst.RoundTrip(req) // the token is fresh: no second request for one
}

// token returns the installation token, asking GitHub for a new one when it
// is about to expire.
func (t *appTransport) token(ctx context.Context) (string, error) {
	tok, err := t.inst.Token(ctx)
	if err == nil {
		t.mu.Lock()
		fresh := tok != t.last
		t.last = tok
		t.mu.Unlock()
		if fresh {
			expires, _, _ := t.inst.Expiry()
			t.log.LogAttrs(ctx, slog.LevelInfo, "GitHub App installation token issued",
				slog.Int64("app_id", t.app.ID), slog.Int64("installation_id", t.app.InstallationID),
				slog.Time("expires_at", expires.UTC()))
		}
		return tok, nil
	}
	var he *ghinstallation.HTTPError
	if !errors.As(err, &he) || he.Response == nil {
		return "", &AppAuthError{AppID: t.app.ID, InstallationID: t.app.InstallationID, Err: err}
	}
	e := &AppAuthError{AppID: t.app.ID, InstallationID: t.app.InstallationID, Status: he.Response.StatusCode, Err: err}
	h := he.Response.Header
	e.RateLimited = e.Status == http.StatusTooManyRequests ||
		e.Status == http.StatusForbidden && (h.Get("X-RateLimit-Remaining") == "0" || h.Get("Retry-After") != "" || isSecondary(he.Response))
	body, _ := io.ReadAll(io.LimitReader(he.Response.Body, 64<<10))
	he.Response.Body.Close()
	var ge struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &ge) == nil {
		e.Message = ge.Message
	}
	return "", e
}

// AppAuthError is GitHub's refusal of an installation token for the App,
// or the failure to ask for one.
type AppAuthError struct {
	AppID, InstallationID int64
	// Status is GitHub's answer, 0 when none came.
	Status int
	// Message is GitHub's message, e.g. "A JSON web token could not be decoded".
	Message string
	// RateLimited is set when GitHub's answer was a rate limit (a 429, or
	// a 403 with X-RateLimit-Remaining: 0, a Retry-After or a secondary
	// rate limit's message): asking again later will do.
	RateLimited bool
	// Err is ghinstallation's error.
	Err error
}

// Refused reports whether GitHub answered and refused (a 4xx other than a
// rate limit): the settings are wrong, and asking again will not help.
func (e *AppAuthError) Refused() bool { return e.Status >= 400 && e.Status < 500 && !e.RateLimited }

func (e *AppAuthError) Error() string {
	said := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		said += fmt.Sprintf(": %q", e.Message)
	}
	switch {
	case e.RateLimited:
		return fmt.Sprintf("GitHub's rate limit held back an installation token of GitHub App %d (installation %d) (%s): it is asked again at the next request; if this lasts, check what else uses the app's installation (docs/github.md, \"Primary rate limit spent\")", e.AppID, e.InstallationID, said)
	case e.Status == 0:
		return fmt.Sprintf("could not ask GitHub for an installation token of GitHub App %d (installation %d): %v; check GITHUB_API_URL and the network", e.AppID, e.InstallationID, e.Err)
	case e.Status == http.StatusUnauthorized:
		return fmt.Sprintf("GitHub refused the JSON Web Token of GitHub App %d (%s): check that GITHUB_APP_ID is the app's id and GITHUB_APP_PRIVATE_KEY one of its current private keys (the app's settings, Private keys), and that this machine's clock is right", e.AppID, said)
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("GitHub App %d has no installation %d (%s): check GITHUB_APP_INSTALLATION_ID, the number at the end of the installation's settings page (…/settings/installations/ID), and that the app is installed on the repository's owner", e.AppID, e.InstallationID, said)
	case e.Status == http.StatusUnprocessableEntity:
		return fmt.Sprintf("GitHub refused an installation token of GitHub App %d (installation %d) for TRAINBOT_REPO (%s): give the installation access to that repository, with the permissions docs/github.md lists", e.AppID, e.InstallationID, said)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("GitHub refused an installation token of GitHub App %d (installation %d) (%s): the installation may be suspended; see the installation's settings", e.AppID, e.InstallationID, said)
	default:
		return fmt.Sprintf("GitHub answered %s to the request for an installation token of GitHub App %d (installation %d); it is asked again at the next request", said, e.AppID, e.InstallationID)
	}
}

// Unwrap returns ghinstallation's error.
func (e *AppAuthError) Unwrap() error { return e.Err }

// installationToken reports whether the request GitHub answered with err
// carried a GitHub App installation token (ghs_…, as GitHub's token
// formats have it) rather than a personal token.
func installationToken(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.Request == nil {
		return false
	}
	_, tok, _ := strings.Cut(er.Response.Request.Header.Get("Authorization"), " ")
	return strings.HasPrefix(tok, "ghs_")
}

// skewSigner signs the app's JSON Web Tokens as GitHub recommends for
// clocks that drift: issued 60 s in the past and expiring 9 minutes on
// (GitHub allows 10), where ghinstallation issues them 30 s back for 2
// minutes. So a host whose clock is up to a minute fast, or several
// minutes slow, still gets its installation tokens.
//
// https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
type skewSigner struct{ ghinstallation.Signer }

// Sign sets the claims' times, then signs them.
func (s skewSigner) Sign(claims jwt.Claims) (string, error) {
	if rc, ok := claims.(*jwt.RegisteredClaims); ok {
		now := time.Now().Truncate(time.Second) // GitHub wants whole seconds
		rc.IssuedAt = jwt.NewNumericDate(now.Add(-60 * time.Second))
		rc.ExpiresAt = jwt.NewNumericDate(now.Add(9 * time.Minute))
	}
	return s.Signer.Sign(claims)
}
