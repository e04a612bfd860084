package bot

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/internal/testenv"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The calendar page in a real browser: Debian's chromium, headless,
// driven by chromedp. One browser serves every check; each check is a tab.

// newBrowser starts headless Chromium for the test and returns its
// context. It skips the test when there is no Chromium, and fails it under
// CI=true, where .ci/run installs it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		testenv.Missing(t, "no Chromium for the browser test of the calendar page: install Debian's chromium package (apt-get install chromium), as .ci/run does")
	}
	// Run as root in a container, so no sandbox; and no call home: the
	// closed network refuses it, which would only be noise.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Run starts the browser, which lives as long as its context:
	// no timeout on it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return browser
}

// viewport is a browser window: a desktop or a phone.
type viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

var (
	desktop = viewport{Name: "desktop", Width: 1280, Height: 900}
	phone   = viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// wantTrain is a train the page must show: its id, the name of its
// on-call and how far away it is.
type wantTrain struct {
	ID, OnCall, Away string
}

// pageWant is what the calendar page must show.
type pageWant struct {
	Trains []wantTrain
	// Windows are the quiet windows' reasons, shown as text.
	Windows []string
}

// pageSeen is what the browser found on the page.
type pageSeen struct {
	Rows []struct {
		ID, OnCall, When, Away string
		// WhenLines is how many line boxes the train's time takes.
		WhenLines int
		// Row and OnCallBox are where the row and its on-call's name
		// are laid out.
		Row, OnCallBox box
	}
	Windows     []string
	Scripts     int
	ScrollWidth int
	InnerWidth  int
}

// box is an element's bounding rectangle, and whether it is visible.
type box struct {
	Width, Height, Left, Right float64
	Visible                    bool
}

// problem says how what, laid out in b, is not on a screen width px wide:
// not shown (no size, or not visible) or past its edges; "" when it is.
func (b box) problem(what string, width int) string {
	switch {
	case b.Width <= 0 || b.Height <= 0 || !b.Visible:
		return what + " is not shown"
	case b.Right > float64(width) || b.Left < 0:
		return fmt.Sprintf("%s ends at %.0f px (from %.0f px), past the screen's %d px", what, b.Right, b.Left, width)
	}
	return ""
}

// pageProbe reads the page as the browser laid it out.
const pageProbe = `(() => {
  const text = (el, sel) => { const e = el.querySelector(sel); return e ? e.textContent.trim() : ""; };
  const box = e => {
    if (!e) return {Width: 0, Height: 0, Left: 0, Right: 0, Visible: false};
    const r = e.getBoundingClientRect();
    return {Width: r.width, Height: r.height, Left: r.left, Right: r.right, Visible: getComputedStyle(e).visibility === "visible"};
  };
  return {
    Rows: [...document.querySelectorAll("tr.train")].map(tr => {
      const t = tr.querySelector("time.when");
      return {ID: tr.dataset.train || "", OnCall: text(tr, ".oncall"), When: t ? t.textContent : "",
        Away: text(tr, ".away"), WhenLines: t ? t.getClientRects().length : 0,
        Row: box(tr), OnCallBox: box(tr.querySelector(".oncall"))};
    }),
    Windows: [...document.querySelectorAll("li.window .reason")].map(e => e.textContent),
    Scripts: document.scripts.length,
    ScrollWidth: document.documentElement.scrollWidth,
    InnerWidth: window.innerWidth,
  };
})()`

// checkCalendarPage opens url in a new tab of browser at the viewport's
// size and returns every way the page falls short of want: a train
// missing, out of order or without its on-call's name, a train's row or
// on-call not laid out on the screen (hidden, or clipped past its
// edge), a time broken over
// lines, a window's reason not shown as text, a page wider than the
// screen, any script, and any error or exception in the console. When
// shot is not empty, a PNG of the whole page is written there. The error
// is for a browser that could not do the check.
func checkCalendarPage(browser context.Context, url string, vp viewport, want pageWant, shot string) ([]string, error) {
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(tab, 20*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var console []string
	if err := chromedp.Listen(tab, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			console = append(console, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
				console = append(console, "console."+string(e.Type)+" called")
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				console = append(console, fmt.Sprintf("browser log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("listen to the tab: %w", err)
	}
	var opts []chromedp.EmulateViewportOption
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.Width, vp.Height, opts...), chromedp.Navigate(url)); err != nil {
		return nil, fmt.Errorf("open %s at %s size: %w", url, vp.Name, err)
	}
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[pageSeen](pageProbe))
	if err != nil {
		return nil, fmt.Errorf("read the page: %w", err)
	}
	if shot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return nil, fmt.Errorf("screenshot: %w", err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			return nil, err
		}
	}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for i, w := range want.Trains {
		if i >= len(seen.Rows) {
			bad("train %s missing: the page shows %d trains, want %d", w.ID, len(seen.Rows), len(want.Trains))
			continue
		}
		r := seen.Rows[i]
		if r.ID != w.ID {
			bad("train %d is %q, want %s", i+1, r.ID, w.ID)
			continue
		}
		if r.OnCall != w.OnCall {
			bad("train %s: on-call %q, want %q", w.ID, r.OnCall, w.OnCall)
		}
		// The text is not enough: the row and the name must be laid out
		// on the screen, not hidden or pushed out of a clipping cell.
		width := min(seen.InnerWidth, int(vp.Width))
		if p := r.Row.problem("its row", width); p != "" {
			bad("train %s: %s at %s width", w.ID, p, vp.Name)
		} else if p := r.OnCallBox.problem("its on-call", width); p != "" {
			bad("train %s: %s at %s width", w.ID, p, vp.Name)
		}
		if r.Away != w.Away {
			bad("train %s: %q away, want %q", w.ID, r.Away, w.Away)
		}
		if r.WhenLines != 1 {
			bad("train %s: its time %q takes %d lines at %s width, want 1", w.ID, r.When, r.WhenLines, vp.Name)
		}
	}
	if len(seen.Rows) > len(want.Trains) {
		bad("the page shows %d trains, want %d", len(seen.Rows), len(want.Trains))
	}
	if strings.Join(seen.Windows, "\n") != strings.Join(want.Windows, "\n") {
		bad("quiet windows %q, want %q", seen.Windows, want.Windows)
	}
	if seen.Scripts != 0 {
		bad("the page holds %d scripts, want none", seen.Scripts)
	}
	// A phone lays out a page too wide for it at the page's width and
	// zooms out, so innerWidth grows with the page: the screen's width is
	// the bound too.
	if seen.ScrollWidth > seen.InnerWidth || seen.ScrollWidth > int(vp.Width) {
		bad("the page scrolls sideways at %s width: %d px wide on a %d px screen (innerWidth %d)", vp.Name, seen.ScrollWidth, vp.Width, seen.InnerWidth)
	}
	mu.Lock()
	for _, c := range console {
		bad("%s", c)
	}
	mu.Unlock()
	return problems, nil
}

// calendarWant is what testCalendar's page shows with the fake
// workspace's names, at calendarNow.
func calendarWant() pageWant {
	return pageWant{
		Trains: []wantTrain{
			{ID: "dev-2026-12-01", OnCall: "Rita Releaser", Away: "in 6 days"},
			{ID: "dev-2026-12-08", OnCall: "Otto", Away: "in 13 days"},
			{ID: "staging-2026-12-09", OnCall: "Rita Releaser", Away: "in 14 days"},
			{ID: "dev-2026-12-15", OnCall: "Rita Releaser", Away: "in 20 days"},
		},
		Windows: []string{testCalendar().Windows[0].Reason},
	}
}

func TestCalendarPageInBrowser(t *testing.T) {
	browser := newBrowser(t)
	fake := slackfake.NewForTest(t, namesWorkspace())
	names := NewNames(newAPI(fake), NamesConfig{Clock: trainstest.NewClock(calendarNow), Logger: testLogger(t)})

	// calendarServer serves the page of the calendar that edit makes of
	// testCalendar.
	calendarServer := func(edit func(*trains.Calendar)) string {
		_, page := CalendarHandlers(CalendarConfig{Source: func(context.Context) (trains.Calendar, error) {
			cal := testCalendar()
			edit(&cal)
			return cal, nil
		}, Names: names})
		srv := httptest.NewServer(page)
		t.Cleanup(srv.Close)
		return srv.URL + "/calendar"
	}
	url := calendarServer(func(*trains.Calendar) {})

	dir := t.ArtifactDir()
	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.Name, func(t *testing.T) {
			shot := filepath.Join(dir, "calendar-"+vp.Name+".png")
			problems, err := checkCalendarPage(browser, url, vp, calendarWant(), shot)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Error(p)
			}
			t.Logf("screenshot: %s", shot)
		})
	}

	// The checker fails the page it should: each of these is served and
	// must be reported.
	t.Run("a train lost", func(t *testing.T) {
		lost := calendarServer(func(c *trains.Calendar) { c.Trains = append(c.Trains[:1:1], c.Trains[2:]...) })
		problems, err := checkCalendarPage(browser, lost, phone, calendarWant(), "")
		if err != nil {
			t.Fatal(err)
		}
		if !hasProblem(problems, "train 2 is \"staging-2026-12-09\", want dev-2026-12-08") {
			t.Errorf("the page without dev-2026-12-08 passed the check; problems: %q", problems)
		}
	})
	t.Run("a script error and a wide page", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			// The page as it was before it fitted a phone, with a script
			// that throws.
			_, _ = fmt.Fprintf(w, `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<table style="width:1200px"><tr class="train" data-train="dev-2026-12-01"><td><time class="when">2026-12-01 14:00 UTC</time></td></tr></table>
<script>throw new Error("boom")</script></body></html>`)
		}))
		defer srv.Close()
		problems, err := checkCalendarPage(browser, srv.URL, phone, pageWant{Trains: []wantTrain{{ID: "dev-2026-12-01"}}}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"scrolls sideways at phone width", "holds 1 scripts", "exception: Uncaught"} {
			if !hasProblem(problems, want) {
				t.Errorf("not reported: %q; problems: %q", want, problems)
			}
		}
	})
	t.Run("an on-call hidden and one clipped", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			// The names are in the page's text, but one is not displayed
			// and the other is pushed out of its clipping cell: the page
			// does not scroll sideways.
			_, _ = fmt.Fprintf(w, `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<table><tr class="train" data-train="dev-2026-12-01"><td><time class="when">2026-12-01 14:00 UTC</time></td><td><span class="oncall" style="display:none">Rita</span></td></tr>
<tr class="train" data-train="dev-2026-12-08"><td><time class="when">2026-12-08 14:00 UTC</time></td><td style="overflow:hidden;max-width:5rem"><span class="oncall" style="position:relative;left:600px">Otto</span></td></tr>
<tr class="train" data-train="dev-2026-12-15" style="display:none"><td><time class="when">2026-12-15 14:00 UTC</time></td><td><span class="oncall">Rita</span></td></tr></table>
</body></html>`)
		}))
		defer srv.Close()
		problems, err := checkCalendarPage(browser, srv.URL, phone, pageWant{Trains: []wantTrain{
			{ID: "dev-2026-12-01", OnCall: "Rita"}, {ID: "dev-2026-12-08", OnCall: "Otto"}, {ID: "dev-2026-12-15", OnCall: "Rita"}}}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"train dev-2026-12-01: its on-call is not shown", "train dev-2026-12-08: its on-call ends at", "train dev-2026-12-15: its row is not shown"} {
			if !hasProblem(problems, want) {
				t.Errorf("not reported: %q; problems: %q", want, problems)
			}
		}
	})
}

func hasProblem(problems []string, part string) bool {
	for _, p := range problems {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}
