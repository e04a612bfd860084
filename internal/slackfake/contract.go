package slackfake

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/trainbot/trainbot/internal/contract"
)

// serveAPIChecked serves a Web API call and, for a server made by
// NewForTest, checks the exchange against Slack's description
// (internal/contract), failing the test on a mismatch.
func (s *Server) serveAPIChecked(w http.ResponseWriter, r *http.Request) {
	tp := s.contractT.Load()
	if tp == nil {
		s.serveAPI(w, r)
		return
	}
	reqBody, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	rec := &contract.Recorder{ResponseWriter: w}
	s.serveAPI(rec, r)
	checkSlack(*tp, r, reqBody, rec)
}

func checkSlack(t testing.TB, r *http.Request, reqBody []byte, rec *contract.Recorder) {
	v, err := contract.Slack()
	if err != nil {
		t.Errorf("slackfake: %v", err)
		return
	}
	if err := v.Check(contract.Exchange{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header, Body: reqBody,
		Status: rec.Status, ResponseHeader: rec.Header(), ResponseBody: rec.Body.Bytes(),
	}); err != nil {
		t.Errorf("slackfake: contract: %v", err)
	}
}
