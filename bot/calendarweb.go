package bot

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/trainbot/trainbot/trains"
)

// CalendarSource builds the calendar the web pages show.
type CalendarSource func(ctx context.Context) (trains.Calendar, error)

// CalendarHandlers returns the handlers of /calendar.ics (an iCalendar feed
// of the coming trains and quiet windows, RFC 5545) and /calendar (the same
// as a small read-only HTML page). Both answer 503 when the store is down.
func CalendarHandlers(src CalendarSource) (ics, page http.Handler) {
	load := func(w http.ResponseWriter, r *http.Request) (trains.Calendar, bool) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		cal, err := src(ctx)
		if err != nil {
			http.Error(w, "calendar unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return cal, false
		}
		return cal, true
	}
	ics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cal, ok := load(w, r); ok {
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
			w.Header().Set("Content-Disposition", `inline; filename="release-trains.ics"`)
			_, _ = w.Write([]byte(ICS(cal)))
		}
	})
	page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cal, ok := load(w, r); ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := pageTmpl.Execute(w, pageData(cal)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}
	})
	return ics, page
}

// ICS renders the calendar as an iCalendar feed: one event per train (an
// hour long) and one per quiet window. Skipped trains are cancelled events.
func ICS(cal trains.Calendar) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	stamp := icsTime(cal.GeneratedAt)
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//trainbot//release trains//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:Release trains")
	for _, e := range cal.Trains {
		line("BEGIN:VEVENT")
		line("UID:" + string(e.Slot.ID()) + "@trainbot")
		line("DTSTAMP:" + stamp)
		line("DTSTART:" + icsTime(e.At))
		line("DTEND:" + icsTime(e.At.Add(time.Hour)))
		summary := e.Slot.Track.Title() + " " + string(e.Slot.ID())
		if e.Candidate != "" {
			summary += " (" + e.Candidate + ")"
		}
		line("SUMMARY:" + icsText(summary))
		desc := []string{"On-call: " + orUnassigned(e.OnCall), "State: " + string(e.State)}
		if e.SkippedBy != "" {
			desc = append(desc, "Skipped by "+e.SkippedBy)
		}
		desc = append(desc, e.Notes...)
		line("DESCRIPTION:" + icsText(strings.Join(desc, "\n")))
		if e.State == trains.Skipped {
			line("STATUS:CANCELLED")
		} else {
			line("STATUS:CONFIRMED")
		}
		line("END:VEVENT")
	}
	for _, w := range cal.Windows {
		line("BEGIN:VEVENT")
		line("UID:" + w.ID + "@trainbot")
		line("DTSTAMP:" + stamp)
		line("DTSTART:" + icsTime(w.From))
		line("DTEND:" + icsTime(w.Until))
		line("SUMMARY:" + icsText("Quiet window: no trains ("+w.Reason+")"))
		line("TRANSP:TRANSPARENT")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value (RFC 5545 §3.3.11): line breaks become \n,
// and other control characters, which TEXT may not hold, are dropped.
func icsText(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	s = strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// fold ends a content line with CRLF, folding it at 75 octets without
// splitting a UTF-8 character (RFC 5545 §3.1).
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}

func orUnassigned(u string) string {
	if u == "" {
		return "unassigned"
	}
	return u
}

// pageNotes are an entry's notes on the page, with who skipped it.
func pageNotes(e trains.CalendarEntry) string {
	notes := e.Notes
	if e.SkippedBy != "" {
		notes = append([]string{"skipped by " + e.SkippedBy}, notes...)
	}
	return strings.Join(notes, "; ")
}

type pageRow struct {
	ID, Track, When, Candidate, OnCall, State, Notes string
}

type pageView struct {
	Generated string
	Rows      []pageRow
	Windows   []string
	Hotfixes  []string
}

func pageData(cal trains.Calendar) pageView {
	v := pageView{Generated: cal.GeneratedAt.UTC().Format(trains.TimeLayout)}
	for _, e := range cal.Trains {
		v.Rows = append(v.Rows, pageRow{ID: string(e.Slot.ID()), Track: string(e.Slot.Track), When: e.At.UTC().Format(trains.TimeLayout),
			Candidate: e.Candidate, OnCall: orUnassigned(e.OnCall), State: string(e.State), Notes: pageNotes(e)})
	}
	for _, w := range cal.Windows {
		v.Windows = append(v.Windows, fmt.Sprintf("%s → %s: %s", w.From.UTC().Format(trains.TimeLayout), w.Until.UTC().Format(trains.TimeLayout), w.Reason))
	}
	for _, h := range cal.Hotfixes {
		v.Hotfixes = append(v.Hotfixes, fmt.Sprintf("%s, %s, %s: %s", h.Tag, h.At.UTC().Format(trains.TimeLayout), h.State, h.Reason))
	}
	return v
}

// pageTmpl is the read-only calendar page; html/template escapes every value.
var pageTmpl = template.Must(template.New("calendar").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Release trains</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}th{background:#f5f5f5}small{color:#666}</style></head>
<body><h1>Release trains</h1>
<p><small>Generated {{.Generated}}. All times UTC. Subscribe: <a href="calendar.ics">calendar.ics</a>.</small></p>
<table><tr><th>Train</th><th>Track</th><th>Time (UTC)</th><th>Tag candidate</th><th>On-call</th><th>State</th><th>Notes</th></tr>
{{range .Rows}}<tr><td>{{.ID}}</td><td>{{.Track}}</td><td>{{.When}}</td><td>{{.Candidate}}</td><td>{{.OnCall}}</td><td>{{.State}}</td><td>{{.Notes}}</td></tr>
{{end}}</table>
<h2>Quiet windows</h2>{{if .Windows}}<ul>{{range .Windows}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>None active or planned.</p>{{end}}
<h2>Recent hotfixes</h2>{{if .Hotfixes}}<ul>{{range .Hotfixes}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>None in the last 30 days.</p>{{end}}
</body></html>
`))
