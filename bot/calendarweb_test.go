package bot

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func testCalendar() trains.Calendar {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	sched := trains.Schedule{Dev: trains.SlotTime{Weekday: time.Tuesday, Hour: 14}, Staging: trains.SlotTime{Weekday: time.Wednesday, Hour: 14},
		StagingAnchor: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC)}
	return trains.BuildCalendar(trains.CalendarInput{Now: now, Schedule: sched, Count: 4,
		Rotation: trains.Rotation{Members: []string{"U1"}, Since: now},
		Windows: []trains.Window{{ID: "w1", From: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 12, 23, 0, 0, 0, 0, time.UTC),
			Reason: "freeze; re-roll, <script>alert(1)</script> " + strings.Repeat("long ", 20), By: "U9"}}})
}

func TestICS(t *testing.T) {
	t.Parallel()
	out := ICS(testCalendar())
	if !strings.HasPrefix(out, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Fatalf("not a calendar:\n%s", out)
	}
	if n := strings.Count(out, "BEGIN:VEVENT"); n != 5 {
		t.Errorf("%d events, want 4 trains and 1 window", n)
	}
	for _, want := range []string{"UID:dev-2026-12-01@trainbot", "DTSTART:20261201T140000Z", "DTSTART:20261209T140000Z",
		`freeze\; re-roll\,`, "STATUS:CANCELLED"} {
		if !strings.Contains(out, want) {
			t.Errorf("feed lacks %q", want)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets not folded: %q", len(l), l)
		}
		if strings.Contains(l, "\n") {
			t.Errorf("bare newline in %q", l)
		}
	}
}

func TestCalendarPages(t *testing.T) {
	t.Parallel()
	ics, page := CalendarHandlers(func(context.Context) (trains.Calendar, error) { return testCalendar(), nil })
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/calendar", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "dev-2026-12-01") || strings.Contains(string(body), "<script>alert") {
		t.Errorf("page %d:\n%s", rec.Code, body)
	}
	rec = httptest.NewRecorder()
	ics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/calendar.ics", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Errorf("ics %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	down, _ := CalendarHandlers(func(context.Context) (trains.Calendar, error) { return trains.Calendar{}, trains.ErrUnavailable })
	rec = httptest.NewRecorder()
	down.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/calendar.ics", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("store down: %d", rec.Code)
	}
}
