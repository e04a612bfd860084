package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
)

// githubStandIn answers the few GitHub calls an idle or chatting trainbot
// makes: one commit on main, no tags, no workflow runs.
func githubStandIn() *httptest.Server {
	const sha = "1111111111111111111111111111111111111111"
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "/runs"):
			fmt.Fprint(w, `{"total_count":0,"workflow_runs":[]}`)
		case strings.Contains(p, "/git/ref/heads/"):
			fmt.Fprintf(w, `{"ref":"refs/heads/main","object":{"type":"commit","sha":"%s"}}`, sha)
		case strings.Contains(p, "/commits/"):
			fmt.Fprintf(w, `{"sha":"%s","commit":{"message":"first","author":{"name":"a","date":"2026-11-01T00:00:00Z"}}}`, sha)
		default:
			fmt.Fprint(w, `[]`)
		}
	}))
}

var errNoProc = errors.New("no /proc: resident memory is read from /proc/<pid>/status on Linux")

// vmRSS reads a process's resident set size in KiB.
func vmRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, errNoProc
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
