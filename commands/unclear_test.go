package commands_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

// TestUnclearChangesAreNotCalledUnchanged: when the store cannot confirm
// a write (SPEC §7), the reply says the change may have been made and
// which command shows it — never "nothing was changed", and it is not a
// refusal. The store is Redis behind a fault proxy: Redis applies the
// write, its reply is lost, and Redis is cut off at that moment, so the
// store cannot read the write back.
func TestUnclearChangesAreNotCalledUnchanged(t *testing.T) {
	t.Parallel()
	fr := trainstack.NewFaultyRedis(t)
	st := trainstack.New(t, trainstack.At("2026-12-01 10:00"), trainstack.Options{Store: fr.Store})
	cmds, err := commands.New(commands.Deps{Service: st.Svc, Log: trainstack.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{Stack: st, cmds: cmds}
	ctx := t.Context()
	st.GH.AddTag("v0.5.0-dev.3", st.GH.Head("main"))
	st.GH.AddCommits("main", 1)

	fired := fr.Proxy.DropReplyAfterAndBlock(fr.WindowWrite())
	got, refused := h.do(t, chainOps, "pause from 2026-12-05T18:00Z until 2026-12-06T02:00Z mtest-val-01 re-roll")
	trainstack.MustHaveFired(t, fired, "the quiet window's write")
	mustContain(t, got, "did not confirm", "may have been made", "/train pause")
	if refused || strings.Contains(got, "nothing was changed") || strings.Contains(got, "Something went wrong") {
		t.Errorf("pause whose window write is unclear: refused=%v, reply %q", refused, got)
	}
	fr.Proxy.Unblock()
	if ws, err := st.Store.Windows(ctx, st.Clock.Now()); err != nil || len(ws) != 1 {
		t.Fatalf("windows in Redis: %+v %v, want the one the pause wrote: the unclear write was not applied", ws, err)
	}

	fired = fr.Proxy.DropReplyAfterAndBlock(fr.TrainWrite(func(t trains.Train) bool { return t.CutBy == releaser }))
	got, refused = h.do(t, releaser, "cut dev")
	trainstack.MustHaveFired(t, fired, "the cut's train write")
	mustContain(t, got, "may have been cut", "v0.5.0-dev.4", "/train history")
	if refused || strings.Contains(got, "nothing was") || strings.Contains(got, "Something went wrong") {
		t.Errorf("cut whose record is unclear: refused=%v, reply %q", refused, got)
	}
	fr.Proxy.Unblock()
	if tr := h.Train("dev-2026-12-01"); tr.CutBy != releaser {
		t.Fatalf("the train in Redis: %+v, want the cut recorded: the unclear write was not applied", tr)
	}
}
