package commands_test

import (
	"testing"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

func TestCalendarPublishIsForReleasers(t *testing.T) {
	t.Parallel()
	st := trainstack.New(t, trainstack.At("2026-12-01 10:00"), trainstack.Options{
		Config: func(c *trains.ServiceConfig) { c.CalendarPath = trains.CalendarPath }})
	cmds, err := commands.New(commands.Deps{Service: st.Svc, Log: trainstack.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{Stack: st, cmds: cmds}

	for _, user := range []string{stranger, validator, chainOps} {
		got, refused := h.do(t, user, "calendar --publish")
		if !refused {
			t.Errorf("%s published the calendar: %s", user, got)
		}
		mustContain(t, got, "Only releasers may do that", "Nothing was changed")
	}
	if _, ok := st.GH.File("main", trains.CalendarPath); ok || st.GH.Count("", "contents/") != 0 {
		t.Fatal("a refused publish reached the repository")
	}
	got, _ := h.do(t, stranger, "calendar")
	mustContain(t, got, "Release calendar")

	got, refused := h.do(t, releaser, "calendar --publish")
	if refused {
		t.Fatalf("releaser refused: %s", got)
	}
	mustContain(t, got, "Calendar updated", trains.CalendarPath)
	if file, ok := st.GH.File("main", trains.CalendarPath); !ok || file == "" {
		t.Fatal("no calendar file on main")
	}
	got, _ = h.do(t, releaser, "calendar --publish")
	mustContain(t, got, "already up to date")

	got, _ = h.do(t, releaser, "calendar --frob")
	mustContain(t, got, "unknown flag --frob", "Usage: /train calendar [--publish]")
	got, _ = h.do(t, stranger, "help calendar")
	mustContain(t, got, "--publish", "releasers")
}

func TestCalendarPublishWhenOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-01 10:00")
	got, _ := h.do(t, releaser, "calendar --publish")
	mustContain(t, got, "TRAINBOT_CALENDAR_PATH", "Nothing was changed")
}
