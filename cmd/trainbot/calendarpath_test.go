package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func TestCalendarPathSetting(t *testing.T) {
	for _, tc := range []struct {
		val string
		ok  bool
	}{
		{"", true},
		{trains.CalendarPath, true},
		{"CALENDAR.md", true},
		{"/docs/calendar.md", false},
		{"docs/../../etc/x", false},
		{"docs//x.md", false},
		{"docs/x.md?ref=evil", false},
		{"docs/", false},
	} {
		t.Run(tc.val, func(t *testing.T) {
			s := defaults(t)
			s.CalendarPath = tc.val
			c, err := s.Parse(ModeCalendar)
			if !tc.ok {
				if err == nil || !strings.HasPrefix(err.Error(), "TRAINBOT_CALENDAR_PATH: ") || strings.Contains(err.Error(), "\n") {
					t.Errorf("TRAINBOT_CALENDAR_PATH=%q: got %v, want one line naming the variable", tc.val, err)
				}
				return
			}
			if err != nil || c.CalendarPath != tc.val || serviceConfig(c, "x").CalendarPath != tc.val {
				t.Errorf("TRAINBOT_CALENDAR_PATH=%q: got %q, %v", tc.val, c.CalendarPath, err)
			}
		})
	}
}

// The console does not commit the calendar file into a local repository,
// and says so: at start-up, and to `calendar --publish`. The repository is
// left as it was.
func TestConsoleDoesNotCommitTheCalendar(t *testing.T) {
	clearEnv(t)
	repo := gitRepo(t)
	t.Setenv("TRAINBOT_DATA_DIR", t.TempDir())
	t.Setenv("TRAINBOT_CALENDAR_PATH", trains.CalendarPath)
	var out, errOut strings.Builder
	e := env{stdin: strings.NewReader("calendar --publish\n"), stdout: &out, stderr: &errOut, clock: calendarTestClock{}}
	if err := run(t.Context(), []string{"console", "--repo", repo}, e); err != nil {
		t.Fatalf("console: %v\n%s", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"does not commit the calendar file", "trainbot calendar > " + trains.CalendarPath, "does not write files to the repository"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, trains.CalendarPath)); err == nil {
		t.Error("the console wrote the calendar file into the repository")
	}
}

// calendarTestClock is the wall clock.
type calendarTestClock struct{}

func (calendarTestClock) Now() time.Time { return time.Now().UTC() }
