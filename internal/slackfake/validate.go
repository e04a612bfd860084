package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block Kit limits the fake enforces (PROTOCOLS.md §4).
const (
	MaxBlocks        = 50
	MaxBlockIDLen    = 255
	MaxSectionText   = 3000
	MaxSectionFields = 10
	MaxFieldText     = 2000
	MaxHeaderText    = 150
	MaxButtonText    = 75
	MaxActionIDLen   = 255
	MaxButtonValue   = 2000
	MaxButtonURL     = 3000
	MaxActions       = 25
	MaxContextElems  = 10
	MaxMessageText   = 40000
)

func isEmptyBlocks(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("[]"))
}

// validateMessage checks a message's text and blocks as Slack does. It
// returns the blocks (nil when empty) and, on failure, an error code
// (no_text, invalid_blocks_format, invalid_blocks) with Slack-style details.
func validateMessage(text string, blocks json.RawMessage) (json.RawMessage, string, []string) {
	if isEmptyBlocks(blocks) {
		if text == "" {
			return nil, "no_text", nil
		}
		return nil, "", nil
	}
	var bs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(blocks))
	if err := dec.Decode(&bs); err != nil || dec.More() {
		return nil, "invalid_blocks_format", nil
	}
	errs := validateBlocks(bs)
	if len(errs) > 0 {
		return nil, "invalid_blocks", errs
	}
	return blocks, "", nil
}

// validateBlocks returns one message per problem, in Slack's shape:
// "must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
func validateBlocks(bs []map[string]any) []string {
	v := &validator{}
	if len(bs) > MaxBlocks {
		v.fail("/blocks", "no more than %d items allowed", MaxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range bs {
		p := fmt.Sprintf("/blocks/%d", i)
		if id, ok := b["block_id"]; ok {
			s, isStr := id.(string)
			switch {
			case !isStr:
				v.fail(p+"/block_id", "must be a string")
			case ids[s]:
				v.fail(p+"/block_id", "duplicate block_id %q", s)
			default:
				ids[s] = true
				v.length(p+"/block_id", s, 1, MaxBlockIDLen)
			}
		}
		switch t, _ := b["type"].(string); t {
		case "section":
			txt, hasText := b["text"]
			fields, hasFields := b["fields"].([]any)
			if !hasText && !hasFields {
				v.fail(p, "must provide either text or fields")
			}
			if hasText {
				v.textObject(p+"/text", txt, MaxSectionText, false)
			}
			if hasFields {
				if len(fields) > MaxSectionFields {
					v.fail(p+"/fields", "no more than %d items allowed", MaxSectionFields)
				}
				for j, f := range fields {
					v.textObject(fmt.Sprintf("%s/fields/%d", p, j), f, MaxFieldText, false)
				}
			}
			if acc, ok := b["accessory"]; ok {
				v.element(p+"/accessory", acc)
			}
		case "header":
			v.textObject(p+"/text", b["text"], MaxHeaderText, true)
		case "actions":
			els, _ := b["elements"].([]any)
			v.count(p+"/elements", len(els), MaxActions)
			actionIDs := map[string]bool{}
			for j, e := range els {
				ep := fmt.Sprintf("%s/elements/%d", p, j)
				v.element(ep, e)
				if m, ok := e.(map[string]any); ok {
					if id, ok := m["action_id"].(string); ok {
						if actionIDs[id] {
							v.fail(ep+"/action_id", "duplicate action_id %q", id)
						}
						actionIDs[id] = true
					}
				}
			}
		case "context":
			els, _ := b["elements"].([]any)
			v.count(p+"/elements", len(els), MaxContextElems)
			for j, e := range els {
				if m, ok := e.(map[string]any); ok && m["type"] != "image" {
					v.textObject(fmt.Sprintf("%s/elements/%d", p, j), e, MaxSectionText, false)
				}
			}
		case "divider", "image", "rich_text", "input", "file", "video", "markdown", "table":
		case "":
			v.fail(p+"/type", "missing required field: type")
		default:
			v.fail(p+"/type", "unsupported block type %q", t)
		}
	}
	return v.errs
}

type validator struct{ errs []string }

func (v *validator) fail(ptr, format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

func (v *validator) length(ptr, s string, lo, hi int) {
	switch n := utf8.RuneCountInString(s); {
	case n < lo:
		v.fail(ptr, "must be more than %d characters", lo-1)
	case n > hi:
		v.fail(ptr, "must be less than %d characters", hi+1)
	}
}

func (v *validator) count(ptr string, n, hi int) {
	switch {
	case n == 0:
		v.fail(ptr, "must provide at least 1 item")
	case n > hi:
		v.fail(ptr, "no more than %d items allowed", hi)
	}
}

// textObject checks a composition text object {type, text}.
func (v *validator) textObject(ptr string, o any, maxLen int, plainOnly bool) {
	m, ok := o.(map[string]any)
	if !ok {
		v.fail(ptr, "must be a text object")
		return
	}
	switch m["type"] {
	case "plain_text":
	case "mrkdwn":
		if plainOnly {
			v.fail(ptr+"/type", "must be plain_text")
		}
	default:
		v.fail(ptr+"/type", "must be plain_text or mrkdwn")
	}
	s, ok := m["text"].(string)
	if !ok {
		v.fail(ptr+"/text", "missing required field: text")
		return
	}
	v.length(ptr+"/text", s, 1, maxLen)
}

// element checks an interactive element; only buttons are checked in depth.
func (v *validator) element(ptr string, e any) {
	m, ok := e.(map[string]any)
	if !ok {
		v.fail(ptr, "must be an element object")
		return
	}
	if id, ok := m["action_id"].(string); ok {
		v.length(ptr+"/action_id", id, 1, MaxActionIDLen)
	}
	if m["type"] != "button" {
		return
	}
	v.textObject(ptr+"/text", m["text"], MaxButtonText, true)
	if s, ok := m["value"].(string); ok {
		v.length(ptr+"/value", s, 1, MaxButtonValue)
	}
	if s, ok := m["url"].(string); ok {
		v.length(ptr+"/url", s, 1, MaxButtonURL)
	}
}
