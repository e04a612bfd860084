package slackfake

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/trainbot/trainbot/internal/contract"
)

// apiRecorder captures the status and body of a Web API answer.
type apiRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *apiRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *apiRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// serveAPIChecked serves a Web API call and, for a server made by
// NewForTest, checks the exchange against Slack's description
// (internal/contract), failing the test on a mismatch.
func (s *Server) serveAPIChecked(w http.ResponseWriter, r *http.Request) {
	t := s.contractT
	if t == nil {
		s.serveAPI(w, r)
		return
	}
	reqBody, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	rec := &apiRecorder{ResponseWriter: w}
	s.serveAPI(rec, r)
	checkSlack(t, r, reqBody, rec)
}

func checkSlack(t testing.TB, r *http.Request, reqBody []byte, rec *apiRecorder) {
	v, err := contract.Slack()
	if err != nil {
		t.Errorf("slackfake: %v", err)
		return
	}
	if err := v.Check(contract.Exchange{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header, Body: reqBody,
		Status: rec.status, ResponseHeader: rec.Header(), ResponseBody: rec.body.Bytes(),
		// A known deviation, left to fix: the ids the tests give the fake
		// (channels, users, team, bot) are short and readable, not
		// Slack's ([CGD][A-Z0-9]{8,} and the like).
		Allow: []string{`doesn't match the regular expression "^`},
	}); err != nil {
		t.Errorf("slackfake: contract: %v", err)
	}
}
