package redistest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want [][]string
		rest string
		bad  bool
	}{
		{name: "one", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", want: [][]string{{"GET", "k"}}},
		{name: "pipelined", in: "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", want: [][]string{{"PING"}, {"SET", "k", ""}}},
		{name: "a value holding CRLF", in: "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", want: [][]string{{"ECHO", "a\r\nb"}}},
		{name: "cut in a value", in: "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$5\r\nab", want: [][]string{{"PING"}}, rest: "*2\r\n$3\r\nGET\r\n$5\r\nab"},
		{name: "cut in a length", in: "*2\r\n$3", rest: "*2\r\n$3"},
		{name: "cut after the array length", in: "*2\r\n", rest: "*2\r\n"},
		{name: "inline", in: "PING\r\nSET k  v\r\n", want: [][]string{{"PING"}, {"SET", "k", "v"}}},
		{name: "not a bulk string", in: "*1\r\n:1\r\n", bad: true},
		{name: "no CRLF after a value", in: "*1\r\n$1\r\nab\r\n", bad: true},
		{name: "a length that is not a number", in: "*x\r\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := parseCommands([]byte(tt.in))
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want bad=%v", err, tt.bad)
			}
			if tt.bad {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			if string(rest) != tt.rest {
				t.Errorf("rest %q, want %q", rest, tt.rest)
			}
		})
	}
}
