package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// BlockAction describes a click on an interactive element of a message.
// When the message is in the store and BlockID is empty, the fake finds the
// element by ActionID and fills BlockID, Value, Text and ActionType from it.
type BlockAction struct {
	UserID, UserName string
	ChannelID        string
	// MessageTS is the ts of the message holding the element.
	MessageTS string
	// Ephemeral marks a click on an ephemeral message; it is set from the
	// store when the message is known.
	Ephemeral bool
	ActionID  string
	BlockID   string
	Value     string
	// ActionType defaults to "button".
	ActionType string
	// Text is the element's plain_text label.
	Text string
	// TriggerID defaults to a fresh value.
	TriggerID string
}

// NewBlockAction builds an interactive block_actions envelope as Slack
// sends it, with a response_url served by the fake that edits the clicked
// message on replace_original. It fails when the element cannot be found.
func (s *Server) NewBlockAction(a BlockAction) (Envelope, error) {
	s.checkIDs("BlockAction", []slackID{{"defs_user_id", a.UserID}, {"defs_channel", a.ChannelID}})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envSeq++
	n := s.envSeq
	m := s.byTS[a.ChannelID+"/"+a.MessageTS]
	if m != nil {
		a.Ephemeral = m.Ephemeral
		if a.BlockID == "" {
			el, ok := findElement(m.Blocks, a.ActionID)
			if !ok {
				return Envelope{}, fmt.Errorf("slackfake: message %s/%s has no element with action_id %q", a.ChannelID, a.MessageTS, a.ActionID)
			}
			a.BlockID, a.Value, a.Text, a.ActionType = el.blockID, el.value, el.text, el.typ
		}
	}
	if a.BlockID == "" {
		return Envelope{}, errors.New("slackfake: BlockAction needs a BlockID or a stored message to find it in")
	}
	if a.ActionType == "" {
		a.ActionType = "button"
	}
	if a.UserName == "" {
		a.UserName = s.users[a.UserID].Name
	}
	if a.TriggerID == "" {
		a.TriggerID = fmt.Sprintf("%d.%d.slackfake", n, s.start.Unix())
	}
	ru := s.newResponseURLLocked("actions", a.ChannelID, a.UserID, a.MessageTS)
	container := map[string]any{
		"type": "message", "message_ts": a.MessageTS, "channel_id": a.ChannelID, "is_ephemeral": a.Ephemeral,
	}
	action := map[string]any{
		"type": a.ActionType, "action_id": a.ActionID, "block_id": a.BlockID,
		"action_ts": s.newTS(),
	}
	if a.Text != "" {
		action["text"] = map[string]any{"type": "plain_text", "text": a.Text, "emoji": true}
	}
	if a.Value != "" {
		action["value"] = a.Value
	}
	p := map[string]any{
		"type":                  "block_actions",
		"user":                  map[string]any{"id": a.UserID, "username": a.UserName, "name": a.UserName, "team_id": s.opts.TeamID},
		"api_app_id":            s.opts.AppID,
		"token":                 "verification-token",
		"container":             container,
		"trigger_id":            a.TriggerID,
		"team":                  map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamName},
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": a.ChannelID, "name": s.channels[a.ChannelID].Name},
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          ru,
		"actions":               []any{action},
	}
	if m != nil && !m.Ephemeral {
		p["message"] = s.messageJSON(m)
		if m.ThreadTS != "" {
			container["thread_ts"] = m.ThreadTS
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return Envelope{}, err
	}
	return Envelope{ID: newUUID(), Type: TypeInteractive, Payload: b, ResponseURL: ru, ChannelID: a.ChannelID, UserID: a.UserID}, nil
}

// BlockAction delivers a new block_actions envelope and waits for its ack.
func (s *Server) BlockAction(ctx context.Context, a BlockAction) (Ack, error) {
	env, err := s.NewBlockAction(a)
	if err != nil {
		return Ack{}, err
	}
	return s.Deliver(ctx, env)
}

// Click has user click the element with actionID on stored message m, and
// waits for the ack.
func (s *Server) Click(ctx context.Context, user string, m Message, actionID string) (Ack, error) {
	return s.BlockAction(ctx, BlockAction{UserID: user, ChannelID: m.Channel, MessageTS: m.TS, ActionID: actionID})
}

type element struct{ blockID, value, text, typ string }

// findElement looks for an element with actionID in actions blocks and
// section accessories. Blocks without block_id get Slack-like generated ones.
func findElement(blocks json.RawMessage, actionID string) (element, bool) {
	var bs []struct {
		Type      string            `json:"type"`
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return element{}, false
	}
	for i, b := range bs {
		cands := b.Elements
		if b.Accessory != nil {
			cands = append(cands, b.Accessory)
		}
		for _, raw := range cands {
			var e struct {
				Type     string `json:"type"`
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
				Text     struct {
					Text string `json:"text"`
				} `json:"text"`
			}
			if json.Unmarshal(raw, &e) != nil || e.ActionID != actionID {
				continue
			}
			id := b.BlockID
			if id == "" {
				id = fmt.Sprintf("slackfake-%d", i)
			}
			return element{blockID: id, value: e.Value, text: e.Text.Text, typ: e.Type}, true
		}
	}
	return element{}, false
}
