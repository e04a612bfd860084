package main

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains/trainstest"
)

// clearEnv unsets every setting so a developer's environment cannot leak in.
func clearEnv(t *testing.T) {
	t.Helper()
	st := reflect.TypeOf(Settings{})
	for i := range st.NumField() {
		t.Setenv(st.Field(i).Tag.Get("envconfig"), "")
	}
	// t.Setenv("X", "") sets X to empty, which envconfig reads as a value
	// (not a default); give the defaults back explicitly.
	for i := range st.NumField() {
		f := st.Field(i)
		t.Setenv(f.Tag.Get("envconfig"), f.Tag.Get("default"))
	}
}

func runArgs(t *testing.T, now time.Time, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, clock: trainstest.NewClock(now)}
	err := run(t.Context(), args, e)
	return out.String(), errOut.String(), err
}

func TestCalendarCommand(t *testing.T) {
	clearEnv(t)
	out, _, err := runArgs(t, time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), "calendar")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"| dev-2026-12-01 | dev | 2026-12-01 14:00 |",
		"| dev-2026-12-08 | dev | 2026-12-08 14:00 |",
		"| staging-2026-12-09 | staging | 2026-12-09 14:00 |",
		"| dev-2026-12-15 | dev | 2026-12-15 14:00 |",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(out, w)
		if i < 0 || i < last {
			t.Fatalf("calendar lacks %q in order:\n%s", w, out)
		}
		last = i
	}
	if n := strings.Count(out, "| unassigned |"); n != 4 {
		t.Errorf("%d unassigned rows, want 4:\n%s", n, out)
	}

	// Settings move the calendar: a Thursday dev slot.
	t.Setenv("TRAINBOT_DEV_SLOT", "Thu 09:30")
	out, _, err = runArgs(t, time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), "calendar")
	if err != nil || !strings.Contains(out, "| dev-2026-11-26 | dev | 2026-11-26 09:30 |") {
		t.Errorf("calendar with TRAINBOT_DEV_SLOT=Thu 09:30: %v\n%s", err, out)
	}
}

func TestCalendarRefusesBadSettings(t *testing.T) {
	clearEnv(t)
	t.Setenv("TRAINBOT_DEV_SLOT", "Tues 2pm")
	t.Setenv("TRAINBOT_SOAK", "a week")
	out, _, err := runArgs(t, time.Now(), "calendar")
	if err == nil || out != "" {
		t.Fatalf("bad settings accepted: %q", out)
	}
	for _, w := range []string{`TRAINBOT_DEV_SLOT: "Tues 2pm" is not "<weekday> HH:MM"`, "TRAINBOT_SOAK:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

func TestCommandLine(t *testing.T) {
	clearEnv(t)
	out, _, err := runArgs(t, time.Now(), "-h")
	if err != nil {
		t.Fatal(err)
	}
	st := reflect.TypeOf(Settings{})
	for i := range st.NumField() {
		f := st.Field(i)
		if !strings.Contains(out, f.Tag.Get("envconfig")) || !strings.Contains(out, f.Tag.Get("desc")) {
			t.Errorf("-h lacks %s and its meaning", f.Tag.Get("envconfig"))
		}
	}
	if !regexp.MustCompile(`TRAINBOT_DEV_SLOT +Tue 14:00 `).MatchString(out) { // the column's width is the longest name's
		t.Errorf("-h does not show the default of TRAINBOT_DEV_SLOT:\n%s", out)
	}
	out, _, err = runArgs(t, time.Now(), "version")
	if err != nil || !strings.HasPrefix(out, "trainbot ") {
		t.Errorf("version = %q, %v", out, err)
	}
	_, errOut, err := runArgs(t, time.Now(), "bogus")
	if !errors.Is(err, errUsage) || !strings.Contains(errOut, `unknown command "bogus"`) {
		t.Errorf("bogus command: %v, %q", err, errOut)
	}
	if _, _, err := runArgs(t, time.Now(), "calendar", "extra"); !errors.Is(err, errUsage) {
		t.Errorf("calendar with an argument: %v", err)
	}
}
