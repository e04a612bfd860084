package githubfake

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GitHub Apps: the fake issues installation access tokens
// (POST /app/installations/{installation_id}/access_tokens) to a request
// that carries a JSON Web Token signed with the app's private key, and
// accepts those tokens on every other endpoint until they expire.
// https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app
// https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app

// App is a GitHub App installed on the fake's repository owner.
type App struct {
	// ID is the app's id: the JWT's iss.
	ID int64
	// Slug is the app's URL name: what it makes is attributed to
	// "<slug>[bot]".
	Slug string
	// InstallationID is the id of its one installation, on the owner of
	// the fake's repository (all repositories).
	InstallationID int64
	// PublicKey checks the JWTs the app signs.
	PublicKey *rsa.PublicKey
	// Permissions are the installation's, e.g. {"contents": "write"}
	// (default: DefaultAppPermissions).
	Permissions map[string]string
}

// DefaultAppPermissions are the permissions docs/github.md asks for (and
// docs/github-app-manifest.json requests).
func DefaultAppPermissions() map[string]string {
	return map[string]string{"actions": "write", "contents": "write", "pull_requests": "write", "metadata": "read"}
}

// InstallationToken is an installation access token the fake issued.
type InstallationToken struct {
	Token          string
	AppID          int64
	InstallationID int64
	IssuedAt       time.Time
	ExpiresAt      time.Time
}

// DefaultTokenLifetime is how long an installation token lives, as on
// GitHub: one hour.
const DefaultTokenLifetime = time.Hour

// maxJWTLifetime is how far ahead of now a JWT's exp may be: "no more
// than 10 minutes into the future". Its iat may be backdated (GitHub
// suggests 60 s, against clock drift), so a JWT may live longer than this.
const maxJWTLifetime = 10 * time.Minute

// jwtSkew is how far ahead of now a JWT's iat may be, for a clock a little
// fast.
const jwtSkew = 60 * time.Second

// appState is the fake's apps and the tokens it issued, under f.mu.
type appState struct {
	apps     map[int64]*App // by app id
	tokens   map[string]*InstallationToken
	issued   []InstallationToken
	lifetime time.Duration
}

// InstallApp registers a GitHub App and its installation (again: replaces
// it). From then on the fake is strict about credentials: every
// repository request must carry a live installation token, or the
// personal token of WithToken (without it, the token of the fake's own
// Client, for the test's reads), and is otherwise answered 401 Bad
// credentials. An installation token may do what the installation's
// Permissions allow (contents, actions, pull_requests; deployments to
// review a deployment) and is answered 403 "Resource not accessible by
// integration" otherwise, as GitHub does.
func (f *Fake) InstallApp(app App) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if app.ID <= 0 || app.InstallationID <= 0 || app.Slug == "" || app.PublicKey == nil {
		f.t.Fatalf("githubfake: InstallApp needs an ID, an InstallationID, a Slug and a PublicKey, got %+v", app)
	}
	if app.Permissions == nil {
		app.Permissions = DefaultAppPermissions()
	}
	f.appsLocked().apps[app.ID] = &app
}

// SetTokenLifetime sets how long the installation tokens issued from now
// on live (default DefaultTokenLifetime), measured on the fake's clock.
func (f *Fake) SetTokenLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.appsLocked().lifetime = d
}

// InstallationTokens returns the installation tokens issued so far, in order.
func (f *Fake) InstallationTokens() []InstallationToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]InstallationToken(nil), f.appsLocked().issued...)
}

func (f *Fake) appsLocked() *appState {
	if f.apps == nil {
		f.apps = &appState{apps: map[int64]*App{}, tokens: map[string]*InstallationToken{}, lifetime: DefaultTokenLifetime}
	}
	return f.apps
}

// clientToken is the token of the clients Client hands out.
const clientToken = "test-token"

// credential is who a request authenticates as.
type credential int

const (
	credOther   credential = iota // any token, or none: accepted unless the fake is strict
	credToken                     // the personal token of WithToken
	credApp                       // a live installation token
	credExpired                   // an installation token past its expiry
)

// authenticate reads the request's Authorization header ("Bearer X" or
// "token X"). For an installation token it returns the app whose token it
// is; the caller answers 401 when cred is credExpired, or credOther while
// the fake is strict.
func (f *Fake) authenticate(r *http.Request) (credential, *App) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		tok = ""
	}
	if f.apps != nil && tok != "" {
		if it, ok := f.apps.tokens[tok]; ok {
			if !f.now().Before(it.ExpiresAt) {
				return credExpired, nil
			}
			return credApp, f.apps.apps[it.AppID]
		}
	}
	if f.token != "" && tok == f.token || f.token == "" && tok == clientToken {
		return credToken, nil
	}
	return credOther, nil
}

// refused reports whether a request with credential c is refused: an
// expired installation token always; no known credential while the fake
// is strict (WithToken, or an app installed).
func (f *Fake) refused(c credential) bool {
	switch c {
	case credExpired:
		return true
	case credOther:
		return f.token != "" || (f.apps != nil && len(f.apps.apps) > 0)
	}
	return false
}

// botLogin is the login of an app's bot user.
func botLogin(app *App) string { return app.Slug + "[bot]" }

// botEmail is the no-reply address GitHub gives an app's bot user.
func botEmail(app *App) string {
	id, _ := userJSON(botLogin(app))["id"].(int64)
	return strconv.FormatInt(id, 10) + "+" + botLogin(app) + "@users.noreply.github.com"
}

// createInstallationToken answers
// POST /app/installations/{installation_id}/access_tokens.
func (f *Fake) createInstallationToken(w http.ResponseWriter, r *http.Request, body []byte, installation string) {
	app, status, msg := f.checkJWT(r)
	if app == nil {
		writeError(w, status, msg)
		return
	}
	id, err := strconv.ParseInt(installation, 10, 64)
	if err != nil || id != app.InstallationID {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var req struct {
		Repositories []string          `json:"repositories"`
		Permissions  map[string]string `json:"permissions"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	for _, repo := range req.Repositories {
		if repo != f.name {
			writeError(w, http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
			return
		}
	}
	perms := app.Permissions
	if req.Permissions != nil {
		for k, v := range req.Permissions {
			have, ok := app.Permissions[k]
			if !ok || (v == "write" && have != "write") {
				writeError(w, http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.")
				return
			}
		}
		perms = req.Permissions
	}
	a := f.appsLocked()
	now := f.now()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d/%d/%d", app.ID, id, len(a.issued))))
	it := InstallationToken{Token: "ghs_" + hex.EncodeToString(sum[:18]), AppID: app.ID, InstallationID: id,
		IssuedAt: now, ExpiresAt: now.Add(a.lifetime)}
	a.tokens[it.Token] = &it
	a.issued = append(a.issued, it)
	sel := "all"
	if len(req.Repositories) > 0 {
		sel = "selected"
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": it.Token, "expires_at": it.ExpiresAt.Format(time.RFC3339),
		"permissions": perms, "repository_selection": sel,
	})
}

// checkJWT checks the request's "Authorization: Bearer <JWT>" as GitHub
// does: RS256, signed by the key of the app its iss names, iat no more
// than 60 s in the future, exp in the future and no more than 10 minutes ahead. It returns
// the app, or the status and message to refuse with.
func (f *Fake) checkJWT(r *http.Request) (*App, int, string) {
	const undecodable = "A JSON web token could not be decoded"
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || tok == "" {
		return nil, http.StatusUnauthorized, "Requires authentication"
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, http.StatusUnauthorized, undecodable
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat json.Number     `json:"iat"`
		Exp json.Number     `json:"exp"`
	}
	if !decodeSegment(parts[0], &header) || !decodeSegment(parts[1], &claims) || header.Alg != "RS256" {
		return nil, http.StatusUnauthorized, undecodable
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	appID, err := strconv.ParseInt(iss, 10, 64)
	if err != nil {
		return nil, http.StatusUnauthorized, undecodable
	}
	app := f.appsLocked().apps[appID]
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if app == nil || err != nil {
		return nil, http.StatusUnauthorized, undecodable
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return nil, http.StatusUnauthorized, undecodable
	}
	now := f.now()
	iat, err := claims.Iat.Int64()
	if err != nil || time.Unix(iat, 0).After(now.Add(jwtSkew)) {
		return nil, http.StatusUnauthorized, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	}
	exp, err := claims.Exp.Int64()
	if err != nil || !time.Unix(exp, 0).After(now) {
		return nil, http.StatusUnauthorized, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	}
	if time.Unix(exp, 0).After(now.Add(maxJWTLifetime)) {
		return nil, http.StatusUnauthorized, "'Expiration time' claim ('exp') is too far in the future"
	}
	return app, 0, ""
}

// decodeSegment decodes one base64url part of a JWT into v.
func decodeSegment(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v) == nil
}

// installationTokenPath returns the installation id of a path
// /app/installations/{installation_id}/access_tokens.
func installationTokenPath(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/app/installations/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/access_tokens")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// callerLogin is the login of who the request being answered
// authenticates as: an app's bot, or the token's user (SetTokenUser).
func (f *Fake) callerLogin() string { return f.callerOr(f.tokenUser) }

// callerOr is the app's bot login when the request being answered carries
// an installation token, else login.
func (f *Fake) callerOr(login string) string {
	if f.app != nil {
		return botLogin(f.app)
	}
	return login
}

// needs returns the installation permission (and level, read or write) a
// repository route needs, as GitHub's docs list them for fine-grained
// and installation tokens; "" for a route the fake does not check.
func needs(method, route string) (perm, level string) {
	level = "read"
	if method != http.MethodGet && method != http.MethodHead {
		level = "write"
	}
	first, _, _ := strings.Cut(route, "/")
	switch {
	case first == "actions" && strings.HasSuffix(route, "/pending_deployments") && level == "write":
		return "deployments", "write" // reviewing a deployment
	case first == "actions":
		return "actions", level
	case first == "pulls" || strings.HasSuffix(route, "/pulls"):
		return "pull_requests", level
	case first == "git" || first == "contents" || first == "commits" || first == "compare" || first == "tags" || first == "branches":
		return "contents", level
	}
	return "", ""
}

// permitted reports whether the app's installation may call method route.
func permitted(app *App, method, route string) bool {
	perm, level := needs(method, route)
	if perm == "" {
		return true
	}
	have := app.Permissions[perm]
	return have == "write" || (have == "read" && level == "read")
}
