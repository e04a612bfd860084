package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// calendarNow is the time of testCalendar: Wednesday 25 November 2026.
var calendarNow = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)

// testCalendar is the next four trains: dev-2026-12-01 as scheduled,
// dev-2026-12-08 postponed twice, staging-2026-12-09 skipped by hand and
// dev-2026-12-15 skipped by a quiet window whose reason holds markup; and
// a hotfix two days ago.
func testCalendar() trains.Calendar {
	sched := trains.Schedule{Dev: trains.SlotTime{Weekday: time.Tuesday, Hour: 14}, Staging: trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC)}
	slot8 := time.Date(2026, 12, 8, 14, 0, 0, 0, time.UTC)
	return trains.BuildCalendar(trains.CalendarInput{Now: calendarNow, Schedule: sched, Count: 4,
		Rotation: trains.Rotation{Members: []string{"U0RITA"}, Since: calendarNow},
		Trains: []trains.Train{
			{ID: "dev-2026-12-08", Track: trains.Dev, At: slot8.Add(4 * time.Hour), PostponedFrom: slot8, Moves: 2, State: trains.Postponed,
				OnCall: "U0OTTO", WindowReason: "db migration"},
			{ID: "staging-2026-12-09", Track: trains.Staging, At: time.Date(2026, 12, 9, 14, 0, 0, 0, time.UTC), State: trains.Skipped,
				SkippedBy: "U0SAM", Reason: "no validators this week"},
			{ID: "hotfix-2026-11-23", Track: trains.Hotfix, At: calendarNow.Add(-50 * time.Hour), State: trains.Deployed, Tag: "v0.4.1",
				CutBy: "U0SAM", Reason: "payments <b>down</b>"},
		},
		Windows: []trains.Window{{ID: "w1", From: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 12, 23, 0, 0, 0, 0, time.UTC),
			Reason: "freeze; re-roll, <script>alert(1)</script> " + strings.Repeat("long ", 20), By: "U0WINONA"}}})
}

// testNames names the people of testCalendar as the fake workspace does.
func testNames(u string) string {
	return map[string]string{"U0RITA": "Rita Releaser", "U0SAM": "Sam Validator", "U0WINONA": "Winona", "U0OTTO": "Otto"}[u]
}

func TestICSParsesBack(t *testing.T) {
	t.Parallel()
	out := ICS(testCalendar(), "acme/chain", testNames)
	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the library cannot read its own feed back: %v\n%s", err, out)
	}
	type event struct {
		UID, Start, End, Stamp, Summary, Description, Status, Sequence, Transp string
	}
	prop := func(e *ics.VEvent, p ics.ComponentProperty) string {
		if v := e.GetProperty(p); v != nil {
			if p == ics.ComponentPropertySummary || p == ics.ComponentPropertyDescription {
				return ics.FromText(v.Value)
			}
			return v.Value
		}
		return ""
	}
	var got []event
	for _, e := range cal.Events() {
		got = append(got, event{UID: e.Id(), Start: prop(e, ics.ComponentPropertyDtStart), End: prop(e, ics.ComponentPropertyDtEnd),
			Stamp: prop(e, ics.ComponentPropertyDtstamp), Summary: prop(e, ics.ComponentPropertySummary),
			Description: prop(e, ics.ComponentPropertyDescription), Status: prop(e, ics.ComponentPropertyStatus),
			Sequence: prop(e, ics.ComponentPropertySequence), Transp: prop(e, ics.ComponentPropertyTransp)})
	}
	const stamp = "20261125T150000Z"
	want := []event{
		{UID: "dev-2026-12-01.acme.chain@trainbot", Start: "20261201T140000Z", End: "20261201T150000Z", Stamp: stamp, Summary: "Dev train dev-2026-12-01",
			Description: "On-call: Rita Releaser\nState: scheduled", Status: "CONFIRMED", Sequence: "0"},
		{UID: "dev-2026-12-08.acme.chain@trainbot", Start: "20261208T180000Z", End: "20261208T190000Z", Stamp: stamp, Summary: "Dev train dev-2026-12-08",
			Description: "On-call: Otto\nState: postponed\npostponed to 2026-12-08 18:00 UTC by quiet window: db migration", Status: "CONFIRMED", Sequence: "2"},
		{UID: "staging-2026-12-09.acme.chain@trainbot", Start: "20261209T140000Z", End: "20261209T150000Z", Stamp: stamp, Summary: "Staging train staging-2026-12-09",
			Description: "On-call: Rita Releaser\nState: skipped\nSkipped by Sam Validator\nno validators this week", Status: "CANCELLED", Sequence: "1"},
		{UID: "dev-2026-12-15.acme.chain@trainbot", Start: "20261215T140000Z", End: "20261215T150000Z", Stamp: stamp, Summary: "Dev train dev-2026-12-15",
			Description: "On-call: Rita Releaser\nState: skipped\nskipped by quiet window: " + testCalendar().Windows[0].Reason, Status: "CANCELLED", Sequence: "1"},
		{UID: "w1.acme.chain@trainbot", Start: "20261215T000000Z", End: "20261223T000000Z", Stamp: stamp,
			Summary: "Quiet window: no trains (" + testCalendar().Windows[0].Reason + ")", Description: "Declared by Winona", Transp: "TRANSPARENT"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for _, p := range []string{"METHOD:PUBLISH", "X-WR-TIMEZONE:UTC", "PRODID:-//trainbot//release trains//EN", "VERSION:2.0"} {
		if !strings.Contains(out, p+"\r\n") {
			t.Errorf("feed lacks %s", p)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets not folded: %q", len(l), l)
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("bare line break in %q", l)
		}
	}
	if again := ICS(testCalendar(), "acme/chain", testNames); again != out {
		t.Errorf("the same calendar gave two feeds: replicas would disagree")
	}
}

// Two trainbots (two repositories) in one subscribed calendar do not
// overwrite each other's events: every UID names the repository.
func TestICSUIDsNameTheRepository(t *testing.T) {
	t.Parallel()
	uids := func(repo string) map[string]bool {
		cal, err := ics.ParseCalendar(strings.NewReader(ICS(testCalendar(), repo, nil)))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, e := range cal.Events() {
			m[e.Id()] = true
		}
		return m
	}
	chain, web := uids("acme/chain"), uids("acme/web")
	if len(chain) != 5 || len(web) != 5 {
		t.Fatalf("UIDs %v and %v, want 5 each", chain, web)
	}
	for uid := range chain {
		if web[uid] {
			t.Errorf("UID %s is in the feeds of acme/chain and acme/web: one calendar would show one of the two events", uid)
		}
	}
}

// TestICSSequenceGrows follows one train through its life: the feed's
// SEQUENCE never falls, and grows when the train moves or is cancelled.
func TestICSSequenceGrows(t *testing.T) {
	t.Parallel()
	sched := trains.Schedule{Dev: trains.SlotTime{Weekday: time.Tuesday, Hour: 14}, Staging: trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC)}
	slot := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	window := trains.Window{ID: "w2", From: slot.Add(-time.Hour), Until: slot.Add(3 * time.Hour), Reason: "db migration"}
	seq := func(ts []trains.Train, ws []trains.Window) string {
		out := ICS(trains.BuildCalendar(trains.CalendarInput{Now: calendarNow, Schedule: sched, Count: 1, Trains: ts, Windows: ws}), "acme/chain", nil)
		cal, err := ics.ParseCalendar(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		e := cal.Events()[0]
		return e.GetProperty(ics.ComponentPropertySequence).Value + " " + e.GetProperty(ics.ComponentPropertyDtStart).Value +
			" " + e.GetProperty(ics.ComponentPropertyStatus).Value
	}
	steps := []struct {
		name string
		ts   []trains.Train
		ws   []trains.Window
		want string
	}{
		{"scheduled", nil, nil, "0 20261201T140000Z CONFIRMED"},
		{"a window foreseen", nil, []trains.Window{window}, "1 20261201T170000Z CONFIRMED"},
		{"postponed by it", []trains.Train{{ID: "dev-2026-12-01", Track: trains.Dev, State: trains.Postponed, At: slot.Add(3 * time.Hour), PostponedFrom: slot, Moves: 1}},
			[]trains.Window{window}, "1 20261201T170000Z CONFIRMED"},
		{"postponed again", []trains.Train{{ID: "dev-2026-12-01", Track: trains.Dev, State: trains.Postponed, At: slot.Add(5 * time.Hour), PostponedFrom: slot, Moves: 2}},
			nil, "2 20261201T190000Z CONFIRMED"},
		{"confirmed at its new time", []trains.Train{{ID: "dev-2026-12-01", Track: trains.Dev, State: trains.Confirmed, At: slot.Add(5 * time.Hour), PostponedFrom: slot, Moves: 2}},
			[]trains.Window{window}, "2 20261201T190000Z CONFIRMED"},
		{"then skipped", []trains.Train{{ID: "dev-2026-12-01", Track: trains.Dev, State: trains.Skipped, At: slot.Add(5 * time.Hour), PostponedFrom: slot, Moves: 2, Reason: "nobody confirmed it"}},
			nil, "3 20261201T190000Z CANCELLED"},
	}
	for _, s := range steps {
		if got := seq(s.ts, s.ws); got != s.want {
			t.Errorf("%s: SEQUENCE DTSTART STATUS = %s, want %s", s.name, got, s.want)
		}
	}
}

func TestAway(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // a Wednesday
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(-time.Minute), "started"},
		{now.Add(20 * time.Second), "now"},
		{now.Add(time.Minute), "in 1 minute"},
		{now.Add(45 * time.Minute), "in 45 minutes"},
		{now.Add(3 * time.Hour), "in 3 hours"},
		{now.Add(11 * time.Hour), "in 11 hours"}, // 02:00 tomorrow: hours say more
		{now.Add(23 * time.Hour), "tomorrow"},
		{time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), "in 6 days"},
		{time.Date(2026, 11, 27, 0, 30, 0, 0, time.UTC), "in 2 days"},
	} {
		if got := Away(now, c.at); got != c.want {
			t.Errorf("Away(%s) = %q, want %q", c.at.Format(time.RFC3339), got, c.want)
		}
	}
}

func TestCalendarPages(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, namesWorkspace())
	names := NewNames(newAPI(fake), NamesConfig{Clock: trainstest.NewClock(calendarNow), Logger: testLogger(t)})
	feed, page := CalendarHandlers(CalendarConfig{Source: func(context.Context) (trains.Calendar, error) { return testCalendar(), nil }, Names: names, Repo: "acme/chain"})
	get := func(h http.Handler, path string) (int, http.Header, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, rec.Header(), string(body)
	}
	code, _, body := get(page, "/calendar")
	if code != 200 || !strings.Contains(body, "dev-2026-12-01") || strings.Contains(body, "<script>alert") {
		t.Errorf("page %d:\n%s", code, body)
	}
	for _, want := range []string{"Rita Releaser", "Otto", "skipped by Sam Validator", "declared by Winona", "in 6 days",
		"v0.4.1, <time>2026-11-23 13:00 UTC</time>, deployed: payments &lt;b&gt;down&lt;/b&gt; <small>(by Sam Validator)</small>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "U0RITA") || strings.Contains(body, "<script") {
		t.Errorf("page shows an id or a script:\n%s", body)
	}
	code, h, body := get(feed, "/calendar.ics")
	if code != 200 || h.Get("Content-Type") != "text/calendar; charset=utf-8" || !strings.Contains(body, "On-call: Rita Releaser") ||
		!strings.Contains(body, "UID:dev-2026-12-01.acme.chain@trainbot\r\n") {
		t.Errorf("ics %d %s:\n%s", code, h.Get("Content-Type"), body)
	}

	// Slack failing: the page shows ids and still answers.
	fake.FailNext("users.info", 100, slackfake.Fault{Error: "invalid_auth"})
	_, down := CalendarHandlers(CalendarConfig{Source: func(context.Context) (trains.Calendar, error) { return testCalendar(), nil },
		Names: NewNames(newAPI(fake), NamesConfig{Logger: testLogger(t)})})
	if code, _, body := get(down, "/calendar"); code != 200 || !strings.Contains(body, "U0RITA") {
		t.Errorf("names unreadable: %d, want 200 with ids:\n%s", code, body)
	}

	// A rollback in the last 30 days has its own section, named; none, no section.
	if strings.Contains(body, "Recent rollbacks") {
		t.Errorf("a section for rollbacks when there were none:\n%s", body)
	}
	withRollback := testCalendar()
	withRollback.Rollbacks = []trains.Train{{ID: "rollback-2026-11-24", Track: trains.Staging, At: calendarNow.Add(-20 * time.Hour),
		State: trains.Deployed, Tag: "v0.4.0-staging.2", RollsBack: "v0.4.0-staging.3", CutBy: "U0RITA", Reason: "sync <i>stalls</i>"}}
	_, rb := CalendarHandlers(CalendarConfig{Source: func(context.Context) (trains.Calendar, error) { return withRollback, nil }, Names: names})
	if _, _, body := get(rb, "/calendar"); !strings.Contains(body, "<h2>Recent rollbacks</h2>") ||
		!strings.Contains(body, "rollback-2026-11-24: v0.4.0-staging.3 back to v0.4.0-staging.2, <time>2026-11-24 19:00 UTC</time>, deployed: sync &lt;i&gt;stalls&lt;/i&gt; <small>(by Rita Releaser)</small>") {
		t.Errorf("page does not list the rollback:\n%s", body)
	}

	// The store down: the public pages answer 503 with a generic message;
	// the store's error, which names its address, goes to the log only.
	storeErr := fmt.Errorf("%w: dial tcp 10.20.30.40:6379: connect: connection refused", trains.ErrUnavailable)
	logs := &syncbuf.Buffer{}
	storedFeed, storedPage := CalendarHandlers(CalendarConfig{Source: func(context.Context) (trains.Calendar, error) { return trains.Calendar{}, storeErr },
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	for path, h := range map[string]http.Handler{"/calendar.ics": storedFeed, "/calendar": storedPage} {
		code, _, body := get(h, path)
		if code != http.StatusServiceUnavailable || strings.Contains(body, "10.20.30.40") ||
			strings.TrimSpace(body) != "calendar unavailable: the state store does not answer; try again shortly" {
			t.Errorf("%s, store down: %d %q, want 503 with a generic message", path, code, body)
		}
	}
	if got := logs.String(); strings.Count(got, "10.20.30.40:6379") != 2 || !strings.Contains(got, "calendar unavailable") {
		t.Errorf("the store's error is not logged for each request:\n%s", got)
	}
}
