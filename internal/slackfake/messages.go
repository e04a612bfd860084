package slackfake

import (
	"context"
	"encoding/json"
	"strings"
)

// How a message reached the store (Message.Via, Revision.Via).
const (
	ViaPostMessage   = "chat.postMessage"
	ViaPostEphemeral = "chat.postEphemeral"
	ViaUpdate        = "chat.update"
	ViaAck           = "ack"
	ViaResponseURL   = "response_url"
)

// Message is a stored message: posted by the bot, or a reply through an ack
// payload or a response_url.
type Message struct {
	// Channel and TS identify the message.
	Channel, TS string
	// ThreadTS is the parent's ts for a reply, empty otherwise.
	ThreadTS string
	// User is the author, the bot user.
	User string
	// Ephemeral messages are seen only by Recipient.
	Ephemeral bool
	Recipient string
	// Text and Blocks are the current content; Blocks is the JSON array as
	// sent, nil when none.
	Text   string
	Blocks json.RawMessage
	// Via says how the message was created (a Via* constant).
	Via string
	// Edits holds earlier versions, oldest first; Edits[0] is the original.
	Edits []Revision
	// Deleted is set by a response_url delete_original.
	Deleted bool
}

// Revision is an earlier version of an edited message.
type Revision struct {
	Text   string
	Blocks json.RawMessage
	Via    string
}

// AllText returns the message text followed by every "text" string found in
// its blocks, joined by newlines: handy for assertions with strings.Contains.
func (m Message) AllText() string {
	parts := []string{m.Text}
	var v any
	if json.Unmarshal(m.Blocks, &v) == nil {
		collectText(v, &parts)
	}
	return strings.Join(parts, "\n")
}

func collectText(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if t, ok := x["text"].(string); ok {
			*out = append(*out, t)
		}
		for k, c := range x {
			if k != "text" || !isString(c) {
				collectText(c, out)
			}
		}
	case []any:
		for _, c := range x {
			collectText(c, out)
		}
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

func (m *Message) clone() Message {
	c := *m
	c.Edits = append([]Revision(nil), m.Edits...)
	return c
}

// postLocked stores a new message. The caller holds s.mu.
func (s *Server) postLocked(m *Message) *Message {
	m.TS = s.newTS()
	m.User = s.opts.BotUserID
	if m.ThreadTS != "" {
		// Replying to a reply threads under its parent, as in Slack.
		if p := s.byTS[m.Channel+"/"+m.ThreadTS]; p != nil && p.ThreadTS != "" {
			m.ThreadTS = p.ThreadTS
		}
	}
	s.messages = append(s.messages, m)
	s.byTS[m.Channel+"/"+m.TS] = m
	s.stats.Messages++
	s.notify()
	return m
}

// editLocked replaces m's content, keeping the old one. The caller holds s.mu.
func (s *Server) editLocked(m *Message, text string, blocks json.RawMessage, via string) {
	m.Edits = append(m.Edits, Revision{Text: m.Text, Blocks: m.Blocks, Via: m.Via})
	m.Text, m.Blocks, m.Via = text, blocks, via
	s.stats.Updates++
	s.notify()
}

func (s *Server) selectMessages(keep func(*Message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if keep(m) {
			out = append(out, m.clone())
		}
	}
	return out
}

// Messages returns the top-level messages of a channel (no thread replies,
// no ephemerals, none deleted), oldest first.
func (s *Server) Messages(channel string) []Message {
	return s.selectMessages(func(m *Message) bool {
		return m.Channel == channel && !m.Ephemeral && !m.Deleted && (m.ThreadTS == "" || m.ThreadTS == m.TS)
	})
}

// Thread returns the parent message ts and its replies, oldest first, as
// conversations.replies does.
func (s *Server) Thread(channel, ts string) []Message {
	return s.selectMessages(func(m *Message) bool {
		return m.Channel == channel && !m.Ephemeral && !m.Deleted && (m.TS == ts || m.ThreadTS == ts)
	})
}

// Ephemerals returns the ephemeral messages shown to user, oldest first.
func (s *Server) Ephemerals(user string) []Message {
	return s.selectMessages(func(m *Message) bool { return m.Ephemeral && !m.Deleted && m.Recipient == user })
}

// Message returns the message at channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byTS[channel+"/"+ts]
	if m == nil {
		return Message{}, false
	}
	return m.clone(), true
}

// WaitMessage blocks until some stored message, in its current state,
// satisfies match, and returns the first such in creation order. It sees
// edits too: match on len(m.Edits) to wait for an update. match runs
// without the fake's lock held, so it may call the fake.
func (s *Server) WaitMessage(ctx context.Context, match func(Message) bool) (Message, error) {
	return waitMatch(ctx, s, func() []Message {
		out := make([]Message, len(s.messages))
		for i, m := range s.messages {
			out[i] = m.clone()
		}
		return out
	}, match)
}

// reply is the JSON body of an ack payload or a response_url post.
type reply struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// storeReplyLocked stores a slash command's ack payload as the reply Slack
// would show: in the channel for response_type in_channel, else ephemeral to
// the invoker. It returns Block Kit errors, storing nothing then. The
// caller holds s.mu.
func (s *Server) storeReplyLocked(env Envelope, payload json.RawMessage, via string) []string {
	var r reply
	if err := json.Unmarshal(payload, &r); err != nil {
		return []string{"payload is not a JSON object: " + err.Error()}
	}
	if r.Text == "" && isEmptyBlocks(r.Blocks) {
		return nil // a bare ack shows nothing
	}
	blocks, code, errs := validateMessage(r.Text, r.Blocks)
	if code != "" {
		if len(errs) == 0 {
			errs = []string{code}
		}
		return errs
	}
	if env.ChannelID == "" {
		return nil
	}
	m := &Message{Channel: env.ChannelID, Text: r.Text, Blocks: blocks, Via: via}
	if r.ResponseType != "in_channel" {
		m.Ephemeral, m.Recipient = true, env.UserID
	}
	s.postLocked(m)
	return nil
}
