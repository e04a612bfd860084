package commands_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/storage"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// TestAuditStreamBoundedUnderRefusedCommands: the audit stream length stays
// bounded under 10,000 refused commands (SPEC §7). Each `cut dev` by someone
// who is not a releaser goes through Commands.Handle and is written to the
// audit log by trains.Service.Refused, on the Redis store as storage.Open
// builds it from the settings. With a cap of 1000 the stream stays within
// the cap plus one stream node (stream-node-max-entries, 100), and its
// newest entries are the last refusals.
func TestAuditStreamBoundedUnderRefusedCommands(t *testing.T) {
	t.Parallel()
	const (
		auditMax = 1000
		slack    = 100 // stream-node-max-entries: XADD MAXLEN ~ trims whole nodes
		refusals = 10_000
	)
	r := redistest.New(t)
	ctx := t.Context()
	now := trainstack.At("2026-12-01 10:00")
	store, closer, _, err := storage.Open(ctx, storage.Config{RedisURL: r.URL, Prefix: r.Prefix, AuditMax: auditMax},
		trainstest.NewClock(now), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	t.Cleanup(func() { closer.Close() })
	st := trainstack.New(t, now, trainstack.Options{Store: store})
	st.GH.AddCommits("main", 1)
	cmds, err := commands.New(commands.Deps{Service: st.Svc})
	if err != nil {
		t.Fatal(err)
	}

	user := func(i int) string { return fmt.Sprintf("USTR%05d", i) }
	start := time.Now()
	for i := range refusals {
		reply := cmds.Handle(ctx, commands.Request{User: user(i), Text: "cut dev", Channel: "C0CHANNEL1"})
		if !reply.Refused || !strings.Contains(reply.Message.Plain(), "Only releasers may do that") {
			t.Fatalf("cut dev by %s: got %q (refused %v), want a refusal", user(i), reply.Message.Plain(), reply.Refused)
		}
	}
	t.Logf("%d refused commands in %s", refusals, time.Since(start).Round(time.Millisecond))
	if len(st.GH.Tags()) != 0 {
		t.Fatal("a refused cut made a tag")
	}

	key := r.Prefix + "audit"
	n, err := r.Client.XLen(ctx, key).Result()
	if err != nil {
		t.Fatalf("XLEN %s: %v", key, err)
	}
	t.Logf("XLEN %s = %d after %d refusals with a cap of %d", key, n, refusals, auditMax)
	if n < auditMax || n > auditMax+slack {
		t.Fatalf("XLEN %s = %d after %d refusals, want %d to %d (the cap, plus one stream node)", key, n, refusals, auditMax, auditMax+slack)
	}

	// The stream holds the newest entries: the last n refusals, newest first.
	msgs, err := r.Client.XRevRange(ctx, key, "+", "-").Result()
	if err != nil {
		t.Fatalf("XREVRANGE %s: %v", key, err)
	}
	if int64(len(msgs)) != n {
		t.Fatalf("XREVRANGE read %d entries, XLEN said %d", len(msgs), n)
	}
	for j, m := range msgs {
		var e trains.AuditEntry
		if err := json.Unmarshal([]byte(fmt.Sprint(m.Values["e"])), &e); err != nil {
			t.Fatalf("entry %s: %v", m.ID, err)
		}
		want := user(refusals - 1 - j)
		if e.User != want || e.Action != "cut dev" || !strings.HasPrefix(e.Result, "refused: ") {
			t.Fatalf("entry %d from the newest (%s) = %+v, want the refused cut by %s", j, m.ID, e, want)
		}
	}
	// What /train history reads agrees.
	log, err := st.Svc.AuditLog(ctx, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.User)
	}
	if want := []string{user(refusals - 1), user(refusals - 2), user(refusals - 3)}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("newest 3 through the service: %v, want %v", got, want)
	}
}
