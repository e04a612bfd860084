package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxResponseURLUses is how many posts a response_url accepts, as in Slack.
const MaxResponseURLUses = 5

// ResponsePost is one JSON body POSTed to a response_url.
type ResponsePost struct {
	// URL is the response_url posted to.
	URL string
	// Body is the raw JSON body.
	Body json.RawMessage
	// The body's fields.
	Text            string
	Blocks          json.RawMessage
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	ThreadTS        string
	// Error is the error code the fake answered ("" when accepted), with
	// Errors for invalid_blocks.
	Error  string
	Errors []string
}

// responseURL is a response_url the fake handed out, with where its posts go.
type responseURL struct {
	url           string
	channel, user string
	origTS        string // the message holding the clicked element, if any
	uses          int
	posts         []ResponsePost
}

// newResponseURLLocked registers a fresh response_url. The caller holds s.mu.
func (s *Server) newResponseURLLocked(kind, channel, user, origTS string) string {
	s.respSeq++
	path := fmt.Sprintf("/response/%s/%s/%d/%s", kind, s.opts.TeamID, s.respSeq, newUUID()[:8])
	base := s.srv.URL
	if s.opts.ResponseURLBase != "" {
		base = strings.TrimSuffix(s.opts.ResponseURLBase, "/")
	}
	ru := &responseURL{url: base + path, channel: channel, user: user, origTS: origTS}
	s.responses[path] = ru
	return ru.url
}

// serveResponseURL receives posts to response_urls: it records them and
// applies them to the message store like Slack: replace_original edits and
// delete_original deletes the message holding the clicked element; other
// posts add a message, ephemeral unless response_type is in_channel.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "slackfake only serves POST", http.StatusMethodNotAllowed)
		return
	}
	if f, ok := s.countCall(r.Context(), "response_url"); ok {
		writeFault(w, f)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	p := ResponsePost{Body: body}
	var in reply
	if err := json.Unmarshal(body, &in); err != nil {
		writeAPIErrorStatus(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	p.Text, p.Blocks, p.ResponseType = in.Text, in.Blocks, in.ResponseType
	p.ReplaceOriginal, p.DeleteOriginal, p.ThreadTS = in.ReplaceOriginal, in.DeleteOriginal, in.ThreadTS

	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responses[r.URL.Path]
	if ru == nil {
		writeAPIErrorStatus(w, http.StatusNotFound, "expired_url")
		return
	}
	p.URL = ru.url
	s.applyResponseLocked(ru, &p)
	ru.posts = append(ru.posts, p)
	s.notify()
	if p.Error != "" {
		writeAPIError(w, p.Error, p.Errors)
		return
	}
	writeJSON(w, map[string]any{"ok": true})
}

// applyResponseLocked validates p and applies it, setting p.Error on
// refusal. The caller holds s.mu.
func (s *Server) applyResponseLocked(ru *responseURL, p *ResponsePost) {
	if ru.uses >= MaxResponseURLUses {
		p.Error = "used_url"
		return
	}
	var orig *Message
	if ru.origTS != "" {
		orig = s.byTS[ru.channel+"/"+ru.origTS]
	}
	if p.DeleteOriginal {
		ru.uses++
		if orig != nil && !orig.Deleted {
			orig.Deleted = true
			s.stats.Updates++
		}
		return
	}
	text, blocks, _, res, ok := content(p.Text, p.Blocks)
	if !ok {
		p.Error, p.Errors = res.err, res.errs
		return
	}
	ru.uses++
	if p.ReplaceOriginal && orig != nil && !orig.Deleted {
		s.editLocked(orig, text, blocks, ViaResponseURL)
		return
	}
	m := &Message{Channel: ru.channel, ThreadTS: p.ThreadTS, Text: text, Blocks: blocks, Via: ViaResponseURL}
	if p.ResponseType != "in_channel" {
		m.Ephemeral, m.Recipient = true, ru.user
	}
	s.postLocked(m)
}

// ResponsePosts returns the posts made to url, oldest first; an empty url
// returns those of every response_url, in no particular order across URLs.
func (s *Server) ResponsePosts(url string) []ResponsePost {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ResponsePost
	for _, ru := range s.responses {
		if url == "" || ru.url == url {
			out = append(out, ru.posts...)
		}
	}
	return out
}

// WaitResponse blocks until a post to url (any, if url is empty) satisfies
// match, and returns it. match runs without the fake's lock held, so it
// may call the fake.
func (s *Server) WaitResponse(ctx context.Context, url string, match func(ResponsePost) bool) (ResponsePost, error) {
	return waitMatch(ctx, s, func() []ResponsePost {
		var out []ResponsePost
		for _, ru := range s.responses {
			if url == "" || ru.url == url {
				out = append(out, ru.posts...)
			}
		}
		return out
	}, match)
}
