package slackfake

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// apiResult is a Web API method's answer: body on success, else err (and
// errs for invalid_blocks).
type apiResult struct {
	body map[string]any
	err  string
	errs []string
}

func fail(code string, errs ...string) apiResult { return apiResult{err: code, errs: errs} }

// apiMethods are the Web API methods the fake implements. Each runs with
// s.mu held and the token already checked.
var apiMethods = map[string]func(s *Server, f url.Values) apiResult{
	"auth.test":             (*Server).authTest,
	"chat.postMessage":      (*Server).postMessage,
	"chat.postEphemeral":    (*Server).postEphemeral,
	"chat.update":           (*Server).updateMessage,
	"usergroups.users.list": (*Server).userGroupMembers,
	"users.info":            (*Server).userInfo,
}

// serveAPI serves POST /api/{method}: faults first, then
// apps.connections.open (JSON, Bearer xapp) or a form method with the bot
// token in the body.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if r.Method != http.MethodPost {
		http.Error(w, "slackfake only serves POST", http.StatusMethodNotAllowed)
		return
	}
	if f, ok := s.countCall(r.Context(), method); ok {
		writeFault(w, f)
		return
	}
	if method == "apps.connections.open" {
		s.serveConnectionsOpen(w, r)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeAPIError(w, "invalid_form_data", nil)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeAPIError(w, "invalid_form_data", nil)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	switch tok {
	case s.opts.BotToken:
	case "":
		writeAPIError(w, "not_authed", nil)
		return
	case s.opts.AppToken:
		writeAPIError(w, "not_allowed_token_type", nil)
		return
	default:
		writeAPIError(w, "invalid_auth", nil)
		return
	}
	h, ok := apiMethods[method]
	if !ok {
		writeAPIError(w, "unknown_method", nil)
		return
	}
	s.mu.Lock()
	res := h(s, r.PostForm)
	s.mu.Unlock()
	if res.err != "" {
		writeAPIError(w, res.err, res.errs)
		return
	}
	res.body["ok"] = true
	writeJSON(w, res.body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, code string, errs []string) {
	writeAPIErrorStatus(w, http.StatusOK, code, errs...)
}

func writeAPIErrorStatus(w http.ResponseWriter, status int, code string, errs ...string) {
	body := map[string]any{"ok": false, "error": code}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) authTest(url.Values) apiResult {
	return apiResult{body: map[string]any{
		"url":                   "https://" + s.opts.TeamName + ".slack.com/",
		"team":                  s.opts.TeamName,
		"user":                  s.opts.BotName,
		"team_id":               s.opts.TeamID,
		"user_id":               s.opts.BotUserID,
		"bot_id":                s.opts.BotID,
		"is_enterprise_install": false,
	}}
}

// channelFor checks the channel field. The caller holds s.mu.
func (s *Server) channelFor(f url.Values) (Channel, apiResult, bool) {
	c, ok := s.channels[f.Get("channel")]
	if !ok {
		return c, fail("channel_not_found"), false
	}
	if c.NotMember {
		return c, fail("not_in_channel"), false
	}
	return c, apiResult{}, true
}

// content validates text and blocks, truncating long text as Slack does.
func content(text string, blocks json.RawMessage) (string, json.RawMessage, string, apiResult, bool) {
	bs, code, errs := validateMessage(text, blocks)
	if code != "" {
		return "", nil, "", fail(code, errs...), false
	}
	warning := ""
	if utf8.RuneCountInString(text) > MaxMessageText {
		text = string([]rune(text)[:MaxMessageText])
		warning = "message_truncated"
	}
	return text, bs, warning, apiResult{}, true
}

func (s *Server) messageJSON(m *Message) map[string]any {
	out := map[string]any{
		"type": "message", "user": m.User, "bot_id": s.opts.BotID, "app_id": s.opts.AppID,
		"team": s.opts.TeamID, "text": m.Text, "ts": m.TS,
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	return out
}

func withWarning(body map[string]any, warning string) map[string]any {
	if warning != "" {
		body["warning"] = warning
		body["response_metadata"] = map[string]any{"warnings": []string{warning}}
	}
	return body
}

func (s *Server) postMessage(f url.Values) apiResult {
	c, res, ok := s.channelFor(f)
	if !ok {
		return res
	}
	text, blocks, warning, res, ok := content(f.Get("text"), json.RawMessage(f.Get("blocks")))
	if !ok {
		return res
	}
	m := s.postLocked(&Message{Channel: c.ID, ThreadTS: f.Get("thread_ts"), Text: text, Blocks: blocks, Via: ViaPostMessage})
	return apiResult{body: withWarning(map[string]any{"channel": c.ID, "ts": m.TS, "message": s.messageJSON(m)}, warning)}
}

func (s *Server) postEphemeral(f url.Values) apiResult {
	c, res, ok := s.channelFor(f)
	if !ok {
		return res
	}
	user := f.Get("user")
	if _, known := s.users[user]; !known {
		return fail("user_not_in_channel")
	}
	text, blocks, warning, res, ok := content(f.Get("text"), json.RawMessage(f.Get("blocks")))
	if !ok {
		return res
	}
	m := s.postLocked(&Message{Channel: c.ID, ThreadTS: f.Get("thread_ts"), Ephemeral: true, Recipient: user,
		Text: text, Blocks: blocks, Via: ViaPostEphemeral})
	return apiResult{body: withWarning(map[string]any{"message_ts": m.TS}, warning)}
}

// updateMessage edits a stored message. Absent text or blocks fields keep
// the old value, as in Slack; "[]" removes the blocks.
func (s *Server) updateMessage(f url.Values) apiResult {
	ch := f.Get("channel")
	if _, ok := s.channels[ch]; !ok {
		return fail("channel_not_found")
	}
	m := s.byTS[ch+"/"+f.Get("ts")]
	if m == nil || m.Ephemeral || m.Deleted {
		return fail("message_not_found")
	}
	text, blocks := m.Text, m.Blocks
	if f.Has("text") {
		text = f.Get("text")
	}
	if f.Has("blocks") {
		blocks = json.RawMessage(f.Get("blocks"))
	}
	text, blocks, warning, res, ok := content(text, blocks)
	if !ok {
		return res
	}
	s.editLocked(m, text, blocks, ViaUpdate)
	return apiResult{body: withWarning(map[string]any{
		"channel": ch, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m),
	}, warning)}
}

func (s *Server) userGroupMembers(f url.Values) apiResult {
	users, ok := s.groups[f.Get("usergroup")]
	if !ok {
		return fail("no_such_subteam")
	}
	return apiResult{body: map[string]any{"users": append([]string{}, users...)}}
}

func (s *Server) userInfo(f url.Values) apiResult {
	u, ok := s.users[f.Get("user")]
	if !ok {
		return fail("user_not_found")
	}
	return apiResult{body: map[string]any{"user": map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "real_name": u.RealName,
		"deleted": u.Deleted, "is_bot": u.IsBot, "is_app_user": false, "tz": u.TZ, "updated": 1764547200, // when the profile last changed (unix seconds)
		// The profile as Slack sends it: every field its description
		// requires, display_name empty unless the user chose one.
		"profile": map[string]any{
			"real_name": u.RealName, "real_name_normalized": u.RealName,
			"display_name": u.DisplayName, "display_name_normalized": u.DisplayName,
			"email": u.Email, "team": s.opts.TeamID, "avatar_hash": "ge3b51ca72de",
			"title": "", "phone": "", "skype": "", "status_text": "", "status_emoji": "", "fields": map[string]any{},
		},
	}}}
}
