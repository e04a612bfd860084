package main

import (
	"strings"
	"testing"

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
