package slackfake

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
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

// slackID is one id a test gives the fake, with the definition of Slack's
// description it must match (defs_user_id, defs_channel, …).
type slackID struct{ def, id string }

// checkIDs fails the test of a server made by NewForTest for every id that
// is not shaped like Slack's. It covers the ids that reach trainbot by no
// checked answer — Socket Mode payloads, users.info's user — and reports
// the others where the test gives them rather than at each answer.
func (s *Server) checkIDs(where string, ids []slackID) {
	tp := s.contractT.Load()
	if tp == nil {
		return
	}
	t := *tp
	t.Helper()
	v, err := contract.Slack()
	if err != nil {
		t.Errorf("slackfake: %v", err)
		return
	}
	var bad []string
	for _, x := range ids {
		if err := v.CheckID(x.def, x.id); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) == 0 {
		return
	}
	const show = 5
	more := ""
	if len(bad) > show {
		more = fmt.Sprintf("\n\t… and %d more", len(bad)-show)
		bad = bad[:show]
	}
	t.Errorf("slackfake: contract: %s: ids Slack never gives (use Slack-shaped ids, e.g. U0RITA, C0VALIDATR, S0RELEASE; see docs/contracts.md):\n\t%s%s",
		where, strings.Join(bad, "\n\t"), more)
}

// optionIDs lists the ids of the workspace the fake was started with.
func optionIDs(o Options) []slackID {
	ids := []slackID{
		// A team id shows as a workspace id too (a message's team).
		{"defs_workspace_id", o.TeamID}, {"defs_app_id", o.AppID},
		{"defs_user_id", o.BotUserID}, {"defs_bot_id", o.BotID},
	}
	for _, c := range o.Channels {
		ids = append(ids, slackID{"defs_channel", c.ID})
	}
	for _, u := range o.Users {
		ids = append(ids, slackID{"defs_user_id", u.ID})
	}
	for _, g := range slices.Sorted(maps.Keys(o.UserGroups)) {
		ids = append(ids, groupIDs(g, o.UserGroups[g])...)
	}
	return ids
}

// groupIDs lists the ids of user group g and its members.
func groupIDs(g string, members []string) []slackID {
	ids := []slackID{{"defs_subteam_id", g}}
	for _, m := range members {
		ids = append(ids, slackID{"defs_user_id", m})
	}
	return ids
}
