package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Envelope types Slack sends over Socket Mode.
const (
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
	TypeEventsAPI     = "events_api"
)

// Envelope is one Socket Mode request. Build it with NewSlashCommand or
// NewBlockAction, or by hand for other types; send it with Send or Deliver.
type Envelope struct {
	// ID is the envelope_id; the client's ack must echo it.
	ID string
	// Type is slash_commands, interactive or events_api.
	Type string
	// Payload is the JSON object under "payload".
	Payload json.RawMessage
	// AcceptsResponsePayload is true for slash commands: the ack's payload
	// is the reply.
	AcceptsResponsePayload bool
	// RetryAttempt and RetryReason mark a redelivery.
	RetryAttempt int
	RetryReason  string
	// ResponseURL is the response_url inside Payload, if any; the fake
	// receives posts to it (see ResponsePosts).
	ResponseURL string
	// ChannelID and UserID say where an ack payload reply goes.
	ChannelID, UserID string
}

// Retry returns a redelivery of e: same envelope_id, RetryAttempt+1.
func (e Envelope) Retry(reason string) Envelope {
	e.RetryAttempt++
	e.RetryReason = reason
	return e
}

// MarshalJSON encodes e exactly as Slack sends it on the socket.
func (e Envelope) MarshalJSON() ([]byte, error) {
	type retry struct {
		RetryAttempt int    `json:"retry_attempt"`
		RetryReason  string `json:"retry_reason"`
	}
	w := struct {
		EnvelopeID             string          `json:"envelope_id"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		Payload                json.RawMessage `json:"payload"`
		*retry
	}{EnvelopeID: e.ID, Type: e.Type, AcceptsResponsePayload: e.AcceptsResponsePayload, Payload: e.Payload}
	if e.Type == TypeEventsAPI || e.RetryAttempt > 0 {
		w.retry = &retry{e.RetryAttempt, e.RetryReason}
	}
	return json.Marshal(w)
}

// Ack is a client's answer to one delivery of an envelope.
type Ack struct {
	// EnvelopeID is the envelope_id the client sent back.
	EnvelopeID string
	// Payload is the ack's "payload", nil when absent.
	Payload json.RawMessage
	// Envelope is the delivery acked (zero for unmatched acks).
	Envelope Envelope
	// Latency runs from the envelope's write to the ack's read.
	Latency time.Duration
	// Socket is the number of the connection the ack came on (1-based).
	Socket int
	// Unmatched is set when no delivery of that envelope was waiting.
	Unmatched bool
	// Errors lists Block Kit problems in a slash command's ack payload; such
	// a reply is not stored as a message.
	Errors []string
}

type delivery struct {
	env    Envelope
	sentAt time.Time
	ack    *Ack
	// acked is closed when ack is set: Deliver waits on it alone, so that
	// many commands in flight do not all wake at every change of the fake.
	acked chan struct{}
}

func (s *Server) send(ctx context.Context, env Envelope) (*delivery, error) {
	d := &delivery{env: env, acked: make(chan struct{})}
	s.mu.Lock()
	s.deliveries[env.ID] = append(s.deliveries[env.ID], d)
	s.mu.Unlock()
	// A socket that dies between being picked and being written to (the
	// client is reconnecting) is given up; the envelope goes on the next
	// live one, as Slack would redeliver it.
	for attempt := 1; ; attempt++ {
		c, err := s.waitLive(ctx)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		d.sentAt = time.Now()
		s.mu.Unlock()
		err = c.writeJSON(env)
		if err == nil {
			break
		}
		if attempt == 5 || ctx.Err() != nil {
			return nil, fmt.Errorf("slackfake: sending envelope %s: %w", env.ID, err)
		}
		s.mu.Lock()
		c.alive = false
		s.notify()
		s.mu.Unlock()
		c.close()
	}
	s.mu.Lock()
	s.stats.EnvelopesSent++
	s.notify()
	s.mu.Unlock()
	return d, nil
}

// Deliver sends env and waits for the client to ack this delivery.
func (s *Server) Deliver(ctx context.Context, env Envelope) (Ack, error) {
	d, err := s.send(ctx, env)
	if err != nil {
		return Ack{}, err
	}
	select {
	case <-d.acked:
	case <-ctx.Done():
		return Ack{}, fmt.Errorf("slackfake: waiting for ack of %s envelope %s: %w", env.Type, env.ID, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return *d.ack, nil
}

// Acks returns every ack read so far, in order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// receiveAck records one frame from the client.
func (s *Server) receiveAck(c *wsConn, data []byte, at time.Time) {
	var in struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &in); err != nil || in.EnvelopeID == "" {
		s.log.Debug("slackfake: ignoring frame from client", "frame", string(data))
		return
	}
	if string(in.Payload) == "null" {
		in.Payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := Ack{EnvelopeID: in.EnvelopeID, Payload: in.Payload, Socket: c.id, Unmatched: true}
	var d *delivery
	for _, x := range s.deliveries[in.EnvelopeID] {
		if x.ack == nil {
			d = x
			break
		}
	}
	s.stats.Acks++
	if d != nil {
		a.Unmatched = false
		a.Envelope = d.env
		a.Latency = at.Sub(d.sentAt)
		if d.env.AcceptsResponsePayload && len(a.Payload) > 0 {
			a.Errors = s.storeReplyLocked(d.env, a.Payload, "ack")
		}
		d.ack = &a
		close(d.acked)
	} else {
		s.stats.UnmatchedAcks++
	}
	s.acks = append(s.acks, a)
	s.notify()
}

// SlashCommand describes a slash command invocation. Text is sent verbatim:
// it is the wire text, with Slack's escaping (see EscapeText).
type SlashCommand struct {
	UserID, UserName       string
	ChannelID, ChannelName string
	// Command defaults to "/train".
	Command string
	Text    string
	// TriggerID defaults to a fresh value.
	TriggerID string
}

// NewSlashCommand builds a slash_commands envelope as Slack sends it, with a
// fresh envelope_id and a response_url served by the fake.
func (s *Server) NewSlashCommand(cmd SlashCommand) Envelope {
	s.checkIDs("SlashCommand", []slackID{{"defs_user_id", cmd.UserID}, {"defs_channel", cmd.ChannelID}})
	if cmd.Command == "" {
		cmd.Command = "/train"
	}
	s.mu.Lock()
	s.envSeq++
	n := s.envSeq
	if cmd.ChannelName == "" {
		cmd.ChannelName = s.channels[cmd.ChannelID].Name
	}
	if cmd.UserName == "" {
		cmd.UserName = s.users[cmd.UserID].Name
	}
	ru := s.newResponseURLLocked("commands", cmd.ChannelID, cmd.UserID, "")
	s.mu.Unlock()
	if cmd.TriggerID == "" {
		cmd.TriggerID = fmt.Sprintf("%d.%d.slackfake", n, s.start.Unix())
	}
	p := map[string]any{
		"token":                 "verification-token",
		"team_id":               s.opts.TeamID,
		"team_domain":           s.opts.TeamName,
		"channel_id":            cmd.ChannelID,
		"channel_name":          cmd.ChannelName,
		"user_id":               cmd.UserID,
		"user_name":             cmd.UserName,
		"command":               cmd.Command,
		"text":                  cmd.Text,
		"api_app_id":            s.opts.AppID,
		"is_enterprise_install": "false",
		"response_url":          ru,
		"trigger_id":            cmd.TriggerID,
	}
	b, _ := json.Marshal(p)
	return Envelope{
		ID: newUUID(), Type: TypeSlashCommands, Payload: b, AcceptsResponsePayload: true,
		ResponseURL: ru, ChannelID: cmd.ChannelID, UserID: cmd.UserID,
	}
}

// SlashCommand delivers a new slash command envelope and waits for its ack.
func (s *Server) SlashCommand(ctx context.Context, cmd SlashCommand) (Ack, error) {
	return s.Deliver(ctx, s.NewSlashCommand(cmd))
}

// EscapeText applies Slack's escaping of &, < and > to user-typed text.
func EscapeText(t string) string {
	var b []byte
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		default:
			b = append(b, t[i])
		}
	}
	return string(b)
}
