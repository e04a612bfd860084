package commands_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// TestUnclearChangesAreNotCalledUnchanged: when the store cannot confirm
// a write (SPEC §7), the reply says the change may have been made and
// which command shows it — never "nothing was changed", and it is not a
// refusal.
func TestUnclearChangesAreNotCalledUnchanged(t *testing.T) {
	t.Parallel()
	var us *trainstest.UnclearStore
	st := trainstack.New(t, trainstack.At("2026-12-01 10:00"), trainstack.Options{WrapStore: func(s trains.Store) trains.Store {
		us = trainstest.NewUnclearStore(s)
		return us
	}})
	cmds, err := commands.New(commands.Deps{Service: st.Svc, Log: trainstack.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{Stack: st, cmds: cmds}
	st.GH.AddTag("v0.5.0-dev.3", st.GH.Head("main"))
	st.GH.AddCommits("main", 1)

	us.UnclearWindowWrite()
	got, refused := h.do(t, chainOps, "pause from 2026-12-05T18:00Z until 2026-12-06T02:00Z mtest-val-01 re-roll")
	mustContain(t, got, "did not confirm", "may have been made", "/train pause")
	if refused || strings.Contains(got, "nothing was changed") || strings.Contains(got, "Something went wrong") {
		t.Errorf("pause whose window write is unclear: refused=%v, reply %q", refused, got)
	}

	us.UnclearTrainWrite(func(t trains.Train) bool { return t.CutBy == releaser })
	got, refused = h.do(t, releaser, "cut dev")
	mustContain(t, got, "may have been cut", "v0.5.0-dev.4", "/train history")
	if refused || strings.Contains(got, "nothing was") || strings.Contains(got, "Something went wrong") {
		t.Errorf("cut whose record is unclear: refused=%v, reply %q", refused, got)
	}
}
