package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateMessage(t *testing.T) {
	t.Parallel()
	section := func(text string) string {
		return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
	}
	button := func(label string) string {
		return fmt.Sprintf(`{"type":"button","action_id":"a","text":{"type":"plain_text","text":%q},"value":"v"}`, label)
	}
	many := strings.TrimSuffix(strings.Repeat(`{"type":"divider"},`, 51), ",")
	tests := []struct {
		name, text, blocks string
		code               string
		errs               []string
	}{
		{name: "text only", text: "hi"},
		{name: "nothing", code: "no_text"},
		{name: "empty blocks, no text", blocks: "[]", code: "no_text"},
		{name: "not JSON", blocks: "[{", code: "invalid_blocks_format"},
		{name: "not an array", blocks: `{"type":"divider"}`, code: "invalid_blocks_format"},
		{name: "section at limit", blocks: "[" + section(strings.Repeat("é", 3000)) + "]"},
		{name: "section too long", blocks: "[" + section(strings.Repeat("x", 3001)) + "]", code: "invalid_blocks",
			errs: []string{"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"}},
		{name: "empty section text", blocks: "[" + section("") + "]", code: "invalid_blocks",
			errs: []string{"must be more than 0 characters [json-pointer:/blocks/0/text/text]"}},
		{name: "too many blocks", blocks: "[" + many + "]", code: "invalid_blocks",
			errs: []string{"no more than 50 items allowed [json-pointer:/blocks]"}},
		{name: "header too long", blocks: `[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]`,
			code: "invalid_blocks", errs: []string{"must be less than 151 characters [json-pointer:/blocks/0/text/text]"}},
		{name: "header mrkdwn", blocks: `[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]`,
			code: "invalid_blocks", errs: []string{"must be plain_text [json-pointer:/blocks/0/text/type]"}},
		{name: "button ok", blocks: `[{"type":"actions","block_id":"b","elements":[` + button(strings.Repeat("b", 75)) + `]}]`},
		{name: "button too long", blocks: `[{"type":"actions","elements":[` + button(strings.Repeat("b", 76)) + `]}]`,
			code: "invalid_blocks", errs: []string{"must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"}},
		{name: "duplicate block_id", blocks: `[{"type":"divider","block_id":"x"},{"type":"divider","block_id":"x"}]`,
			code: "invalid_blocks", errs: []string{`duplicate block_id "x" [json-pointer:/blocks/1/block_id]`}},
		{name: "unknown type", blocks: `[{"type":"banner"}]`, code: "invalid_blocks",
			errs: []string{`unsupported block type "banner" [json-pointer:/blocks/0/type]`}},
		{name: "too many fields", blocks: `[{"type":"section","fields":[` +
			strings.TrimSuffix(strings.Repeat(`{"type":"mrkdwn","text":"f"},`, 11), ",") + `]}]`,
			code: "invalid_blocks", errs: []string{"no more than 10 items allowed [json-pointer:/blocks/0/fields]"}},
		{name: "empty actions", blocks: `[{"type":"actions","elements":[]}]`, code: "invalid_blocks",
			errs: []string{"must provide at least 1 item [json-pointer:/blocks/0/elements]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blocks, code, errs := validateMessage(tc.text, json.RawMessage(tc.blocks))
			if code != tc.code {
				t.Errorf("code = %q, want %q", code, tc.code)
			}
			if diff := cmp.Diff(tc.errs, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if code == "" && tc.blocks != "" && tc.blocks != "[]" && string(blocks) != tc.blocks {
				t.Errorf("blocks = %s", blocks)
			}
		})
	}
}
