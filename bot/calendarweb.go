package bot

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	ics "github.com/arran4/golang-ical"

	"github.com/trainbot/trainbot/trains"
)

// CalendarSource builds the calendar the web pages show.
type CalendarSource func(ctx context.Context) (trains.Calendar, error)

// calendarTimeout bounds building a calendar page or feed: reading the
// store and the names of the people in it.
const calendarTimeout = 5 * time.Second

// CalendarConfig is what the calendar pages are made from.
type CalendarConfig struct {
	// Source builds the calendar.
	Source CalendarSource
	// Names shows people by their names; nil shows Slack ids, and a name
	// that cannot be read shows the id.
	Names trains.Names
	// Repo is the released repository, owner/name: the feed's UIDs hold
	// it, so the feeds of two trainbots in one calendar do not collide.
	Repo string
	// Log receives why a calendar could not be built (the store's error,
	// which the public pages do not show); nil discards it.
	Log *slog.Logger
}

// calendarUnavailable is the public pages' answer when the calendar
// cannot be built: the store's error, which may name its address, is
// logged instead.
const calendarUnavailable = "calendar unavailable: the state store does not answer; try again shortly"

// CalendarHandlers returns the handlers of /calendar.ics (an iCalendar feed
// of the coming trains and quiet windows, RFC 5545) and /calendar (the same
// as a small read-only HTML page). Both answer 503 with a generic message
// when the store is down, and log the store's error.
func CalendarHandlers(cfg CalendarConfig) (feed, page http.Handler) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	load := func(w http.ResponseWriter, r *http.Request, serve func(trains.Calendar, func(string) string)) {
		ctx, cancel := context.WithTimeout(r.Context(), calendarTimeout)
		defer cancel()
		cal, err := cfg.Source(ctx)
		if err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "calendar unavailable", slog.String("path", r.URL.Path), slog.String("err", err.Error()))
			http.Error(w, calendarUnavailable, http.StatusServiceUnavailable)
			return
		}
		serve(cal, trains.NameFunc(ctx, cfg.Names))
	}
	feed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		load(w, r, func(cal trains.Calendar, name func(string) string) {
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
			w.Header().Set("Content-Disposition", `inline; filename="release-trains.ics"`)
			_, _ = w.Write([]byte(ICS(cal, cfg.Repo, name)))
		})
	})
	page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		load(w, r, func(cal trains.Calendar, name func(string) string) {
			var b strings.Builder
			if err := pageTmpl.Execute(&b, pageData(cal, name)); err != nil {
				http.Error(w, "calendar page: "+err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(b.String()))
		})
	})
	return feed, page
}

// ICS renders the calendar as an iCalendar feed (RFC 5545) through
// github.com/arran4/golang-ical: one event per train (an hour long) and
// one per quiet window, every time in UTC. An event's UID is the train's
// (or window's) id and repo, the released repository (owner/name), e.g.
// dev-2026-12-08.acme.chain@trainbot: a calendar app updates it in place,
// and the feeds of two repositories' trainbots do not collide; its SEQUENCE
// counts the train's moves and its cancellation, from the stored state
// alone, so every replica serves the same feed; a skipped train is
// STATUS:CANCELLED. DTSTAMP is when the feed was made. Lines end with
// CRLF and fold at 75 octets. name turns a Slack
// user id into what the feed shows; nil shows the id.
func ICS(cal trains.Calendar, repo string, name func(string) string) string {
	if name == nil {
		name = func(u string) string { return u }
	}
	c := ics.NewCalendarFor("trainbot")
	c.SetProductId("-//trainbot//release trains//EN")
	c.SetCalscale("GREGORIAN")
	c.SetMethod(ics.MethodPublish)
	c.SetXWRCalName("Release trains")
	c.SetXWRTimezone("UTC")
	uid := func(id string) string {
		if repo == "" {
			return id + "@trainbot"
		}
		// GitHub owners hold no dots, so owner.name is unambiguous; GitHub
		// names ignore case, and so does the UID, for TRAINBOT_REPO
		// written either way.
		return id + "." + strings.ToLower(strings.ReplaceAll(repo, "/", ".")) + "@trainbot"
	}
	for _, e := range cal.Trains {
		ev := c.AddEvent(uid(string(e.Slot.ID())))
		ev.SetDtStampTime(cal.GeneratedAt)
		ev.SetStartAt(e.At)
		ev.SetEndAt(e.At.Add(time.Hour))
		ev.SetSequence(Sequence(e))
		summary := e.Slot.Track.Title() + " " + string(e.Slot.ID())
		if e.Candidate != "" {
			summary += " (" + e.Candidate + ")"
		}
		ev.SetSummary(icsText(summary))
		desc := []string{"On-call: " + orUnassigned(name(e.OnCall)), "State: " + string(e.State)}
		if e.SkippedBy != "" {
			desc = append(desc, "Skipped by "+name(e.SkippedBy))
		}
		desc = append(desc, e.Notes...)
		ev.SetDescription(icsText(strings.Join(desc, "\n")))
		if e.State == trains.Skipped {
			ev.SetStatus(ics.ObjectStatusCancelled)
		} else {
			ev.SetStatus(ics.ObjectStatusConfirmed)
		}
	}
	for _, w := range cal.Windows {
		ev := c.AddEvent(uid(w.ID))
		ev.SetDtStampTime(cal.GeneratedAt)
		ev.SetStartAt(w.From)
		ev.SetEndAt(w.Until)
		ev.SetSummary(icsText("Quiet window: no trains (" + w.Reason + ")"))
		if w.By != "" {
			ev.SetDescription(icsText("Declared by " + name(w.By)))
		}
		ev.SetTimeTransparency(ics.TransparencyTransparent)
	}
	return c.Serialize(ics.WithNewLineWindows) // RFC 5545 §3.1: lines end with CRLF; the library's default is LF
}

// Sequence is a train's SEQUENCE in the feed (RFC 5545 §3.8.7.4): 0 at
// its slot, one more for each time it was moved, and one more when it is
// cancelled (skipped). It is made from the calendar alone, so replicas
// reading the same store agree, and it only grows as a train's life goes on.
func Sequence(e trains.CalendarEntry) int {
	n := e.Moves
	if e.State == trains.Skipped {
		n++
	}
	return n
}

// icsText makes s fit a TEXT value: line breaks become \n, which the
// library escapes, and other control characters, which TEXT may not hold
// (RFC 5545 §3.3.11), are dropped.
func icsText(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	return strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func orUnassigned(u string) string {
	if u == "" {
		return "unassigned"
	}
	return u
}

// Away says how far off at is from now, beside the UTC time on the page:
// "in 3 hours" within half a day, else by UTC dates "tomorrow" or "in 6
// days"; "started" for a time passed.
func Away(now, at time.Time) string {
	d := at.Sub(now)
	plural := func(n int, unit string) string {
		return "in " + strconv.Itoa(n) + " " + trains.Plural(n, unit, unit+"s")
	}
	switch {
	case d < 0:
		return "started"
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	}
	day := func(t time.Time) time.Time {
		y, m, dd := t.UTC().Date()
		return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	}
	days := int(day(at).Sub(day(now)).Hours() / 24)
	switch {
	case d < 12*time.Hour || days == 0:
		return plural(int(d.Round(time.Hour)/time.Hour), "hour")
	case days == 1:
		return "tomorrow"
	}
	return plural(days, "day")
}

// pageNotes are an entry's notes on the page, with who skipped it.
func pageNotes(e trains.CalendarEntry, name func(string) string) string {
	notes := e.Notes
	if e.SkippedBy != "" {
		notes = append([]string{"skipped by " + name(e.SkippedBy)}, notes...)
	}
	return strings.Join(notes, "; ")
}

type pageRow struct {
	ID, Track, When, ISO, Away, Candidate, OnCall, State, Notes string
}

type pageWindow struct {
	From, Until, Reason, By string
}

type pageHotfix struct {
	Tag, When, State, Reason, By string
}

// pageRollback is a recent rollback: the environment taken From one tag
// back To another.
type pageRollback struct {
	ID, From, To, When, State, Reason, By string
}

type pageView struct {
	Generated string
	Rows      []pageRow
	Windows   []pageWindow
	Hotfixes  []pageHotfix
	Rollbacks []pageRollback
}

func pageData(cal trains.Calendar, name func(string) string) pageView {
	v := pageView{Generated: cal.GeneratedAt.UTC().Format(trains.TimeLayout)}
	for _, e := range cal.Trains {
		v.Rows = append(v.Rows, pageRow{ID: string(e.Slot.ID()), Track: string(e.Slot.Track),
			When: e.At.UTC().Format(trains.TimeLayout), ISO: e.At.UTC().Format(time.RFC3339), Away: Away(cal.GeneratedAt, e.At),
			Candidate: e.Candidate, OnCall: orUnassigned(name(e.OnCall)), State: string(e.State), Notes: pageNotes(e, name)})
	}
	for _, w := range cal.Windows {
		v.Windows = append(v.Windows, pageWindow{From: w.From.UTC().Format(trains.TimeLayout), Until: w.Until.UTC().Format(trains.TimeLayout),
			Reason: w.Reason, By: name(w.By)})
	}
	for _, h := range cal.Hotfixes {
		tag := h.Tag
		if tag == "" {
			tag = string(h.ID)
		}
		v.Hotfixes = append(v.Hotfixes, pageHotfix{Tag: tag, When: h.At.UTC().Format(trains.TimeLayout), State: string(h.State),
			Reason: h.Reason, By: name(h.CutBy)})
	}
	for _, r := range cal.Rollbacks {
		v.Rollbacks = append(v.Rollbacks, pageRollback{ID: string(r.ID), From: r.RollsBack, To: r.Tag, When: r.At.UTC().Format(trains.TimeLayout),
			State: string(r.State), Reason: r.Reason, By: name(r.CutBy)})
	}
	return v
}

// pageTmpl is the read-only calendar page; html/template escapes every
// value. It has no JavaScript. On a narrow screen (a phone) the table's
// rows become stacked cards, each cell labelled, and no time breaks.
var pageTmpl = template.Must(template.New("calendar").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Release trains</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;line-height:1.4;margin:0 auto;padding:1rem;max-width:72rem}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}
small,.away{color:#666}
time,.away,.when,.id{white-space:nowrap}
td{overflow-wrap:break-word}
.notes,li{overflow-wrap:anywhere}
@media (max-width:40rem){
 thead{display:none}
 table,tbody,tr,td{display:block;width:100%}
 tr{border:1px solid #ddd;border-radius:.5rem;margin:0 0 .8rem;padding:.4rem .6rem}
 td{border:0;padding:.15rem 0;display:grid;grid-template-columns:6.5rem minmax(0,1fr);gap:.5rem}
 td::before{content:attr(data-label);font-weight:600;color:#555}
}
</style></head>
<body><h1>Release trains</h1>
<p><small>Generated {{.Generated}}. All times UTC. Subscribe: <a href="calendar.ics">calendar.ics</a>.</small></p>
<table class="trains"><thead><tr><th>Train</th><th>Track</th><th>Time (UTC)</th><th>Tag candidate</th><th>On-call</th><th>State</th><th>Notes</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="train" data-train="{{.ID}}">
<td data-label="Train"><span class="id">{{.ID}}</span></td>
<td data-label="Track"><span>{{.Track}}</span></td>
<td data-label="Time (UTC)"><span><time class="when" datetime="{{.ISO}}">{{.When}}</time> <span class="away">{{.Away}}</span></span></td>
<td data-label="Tag"><span>{{.Candidate}}</span></td>
<td data-label="On-call"><span class="oncall">{{.OnCall}}</span></td>
<td data-label="State"><span class="state">{{.State}}</span></td>
<td data-label="Notes"><span class="notes">{{.Notes}}</span></td>
</tr>
{{end}}</tbody></table>
<h2>Quiet windows</h2>{{if .Windows}}<ul class="windows">{{range .Windows}}<li class="window"><time>{{.From}}</time> → <time>{{.Until}}</time>: <span class="reason">{{.Reason}}</span>{{if .By}} <small>(declared by {{.By}})</small>{{end}}</li>{{end}}</ul>{{else}}<p>None active or planned.</p>{{end}}
<h2>Recent hotfixes</h2>{{if .Hotfixes}}<ul class="hotfixes">{{range .Hotfixes}}<li>{{.Tag}}, <time>{{.When}}</time>, {{.State}}: {{.Reason}}{{if .By}} <small>(by {{.By}})</small>{{end}}</li>{{end}}</ul>{{else}}<p>None in the last 30 days.</p>{{end}}
{{if .Rollbacks}}<h2>Recent rollbacks</h2><ul class="rollbacks">{{range .Rollbacks}}<li>{{.ID}}: {{.From}} back to {{.To}}, <time>{{.When}}</time>, {{.State}}: {{.Reason}}{{if .By}} <small>(by {{.By}})</small>{{end}}</li>{{end}}</ul>{{end}}
</body></html>
`))
