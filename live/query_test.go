package live_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/live"
)

func TestQueryForPutsTheTagEscaped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, query, tag, want string
	}{
		{"default", live.DefaultQuery, "v0.5.0-staging.1", `count(build_info{version="v0.5.0-staging.1"})`},
		{"a double quote and a backslash cannot end the string", live.DefaultQuery, `v1"} or vector(1) #\`,
			`count(build_info{version="v1\"} or vector(1) #\\"})`},
		{"single quotes", `count(build_info{version='{{tag}}'})`, `it's"`, `count(build_info{version='it\'s"'})`},
		{"control characters", live.DefaultQuery, "a\nb\x01", `count(build_info{version="a\nb\x01"})`},
		{"a regular expression matches the tag only", `count(build_info{version=~"{{tag}}"})`, "v0.5.0+x",
			`count(build_info{version=~"v0\\.5\\.0\\+x"})`},
		{"a negative regular expression too", `count(up) - count(build_info{version!~ "{{tag}}"})`, "v1.0",
			`count(up) - count(build_info{version!~ "v1\\.0"})`},
		{"twice", `count(build_info{version="{{tag}}"}) or count(app_info{tag="{{tag}}"})`, "v1",
			`count(build_info{version="v1"}) or count(app_info{tag="v1"})`},
		{"escapes and brackets in other strings are left alone", `count(build_info{version="{{tag}}", job="a\"}("})`, "v1",
			`count(build_info{version="v1", job="a\"}("})`},
		{"surrounding space is trimmed", "  " + live.DefaultQuery + "\n", "v1", `count(build_info{version="v1"})`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := live.ParseQuery(tc.query)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tc.query, err)
			}
			if got := q.For(tc.tag); got != tc.want {
				t.Errorf("For(%q) =\n  %s\nwant\n  %s", tc.tag, got, tc.want)
			}
			// What For makes is itself a valid query shape: the tag did
			// not open or close a string or a bracket.
			if _, err := live.ParseQuery(q.For(tc.tag) + ` + count(x{a="` + live.Placeholder + `"})`); err != nil {
				t.Errorf("the query made for %q no longer parses: %v", tc.tag, err)
			}
		})
	}
}

func TestParseQueryRefusesSayingWhy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ query, want string }{
		{"", "is empty"},
		{"   ", "is empty"},
		{`count(build_info{version="v1"})`, "does not hold {{tag}}"},
		{`count(build_info{version={{tag}}})`, "outside a quoted string"},
		{"count(build_info{version=`{{tag}}`})", "raw string"},
		{`count(build_info{version="{{tag}}})`, "unclosed"},
		{`count(build_info{version="{{tag}}"}`, `leaves '(' unclosed`},
		{`count(build_info{version="{{tag}}"}))`, `unmatched ')'`},
		{`count(build_info{version="{{tag}}")}`, `unmatched ')'`},
		{"count(build_info{version=\"{{tag}}\n\"})", "line break"},
	} {
		_, err := live.ParseQuery(tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseQuery(%q) = %v, want an error saying %q", tc.query, err, tc.want)
		}
	}
	if q, err := live.ParseQuery(live.DefaultQuery); err != nil || q.String() != live.DefaultQuery {
		t.Errorf("the default query: %v, %v", q, err)
	}
}
