package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/syncbuf"
	"github.com/trainbot/trainbot/trains"
)

func TestConsoleRunsAScript(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	c := &Console{
		In:   strings.NewReader("/train cut dev\n\n  history 2  \npause 1h a <b> & <@U02>\nexit\ncut staging\n"),
		Out:  &out,
		User: "U01",
	}
	ann := c.Announcer("rel")
	var got []commands.Request
	c.Handler = handlerFunc(func(ctx context.Context, r commands.Request) commands.Reply {
		got = append(got, r)
		if r.Text == "cut dev" {
			ref, _ := ann.Post(ctx, trains.Message{Blocks: []trains.Block{
				{Kind: trains.Header, Text: trains.Text{trains.T("Dev train v0.5.0-dev.4")}},
				{Kind: trains.Section, Text: trains.Text{trains.T("cut by "), trains.U(r.User), trains.T(" at "), trains.D(slot)}},
			}})
			_, _ = ann.Reply(ctx, ref, trains.Say(trains.T("tagged "), trains.C("v0.5.0-dev.4")))
			_ = ann.Edit(ctx, ref, trains.Say(trains.T("Dev train v0.5.0-dev.4 deployed")))
			return commands.Reply{Message: trains.Say(trains.T("Cutting dev: "), trains.C("v0.5.0-dev.4"))}
		}
		return commands.Reply{Message: trains.Say(trains.T("ok: " + r.Text))}
	})
	if err := c.Run(t.Context()); err != nil {
		t.Fatal(err)
	}

	want := []commands.Request{
		{User: "U01", Text: "cut dev", Channel: "console"},
		{User: "U01", Text: "history 2", Channel: "console"},
		{User: "U01", Text: "pause 1h a &lt;b&gt; &amp; <@U02>", Channel: "console"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	wantOut := `trainbot> #rel [1] ▸ Dev train v0.5.0-dev.4
           cut by <@U01> at 2026-12-09 14:00 UTC
  ↳ [1] tagged v0.5.0-dev.4
✎ [1] Dev train v0.5.0-dev.4 deployed
Cutting dev: v0.5.0-dev.4
trainbot> trainbot> ok: history 2
trainbot> ok: pause 1h a &lt;b&gt; &amp; <@U02>
trainbot> `
	if diff := cmp.Diff(wantOut, out.String()); diff != "" {
		t.Errorf("console output (-want +got):\n%s", diff)
	}
}

func TestConsoleEndsAtEOFAndOnCancel(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	echo := handlerFunc(func(_ context.Context, r commands.Request) commands.Reply {
		return commands.Reply{Message: trains.Say(trains.T(r.Text))}
	})
	c := &Console{In: strings.NewReader("help"), Out: &out, User: "U01", Handler: echo, Prompt: "> "}
	if err := c.Run(t.Context()); err != nil {
		t.Fatalf("Run at EOF: %v", err)
	}
	if out.String() != "> help\n> \n" {
		t.Errorf("output = %q", out.String())
	}

	// Input that never ends: cancelling ctx ends Run.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	blocked := &Console{In: blockingReader{}, Out: &out, User: "U01", Handler: echo}
	if err := blocked.Run(ctx); err != context.Canceled {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

func TestConsoleAnnouncerIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	a := &ConsoleAnnouncer{Out: &out, Channel: "rel"}
	var wg sync.WaitGroup
	refs := make(chan trains.MessageRef, 20)
	for i := range 20 {
		wg.Go(func() {
			ref, err := a.Post(t.Context(), trains.Say(trains.T(fmt.Sprintf("post %d", i))))
			if err != nil {
				t.Error(err)
			}
			refs <- ref
		})
	}
	wg.Wait()
	close(refs)
	seen := map[string]bool{}
	for r := range refs {
		if seen[r.TS] || r.Channel != "rel" {
			t.Errorf("ref %+v repeated or in the wrong channel", r)
		}
		seen[r.TS] = true
	}
	if n := strings.Count(out.String(), "\n"); n != 20 {
		t.Errorf("%d lines printed, want 20", n)
	}
}
