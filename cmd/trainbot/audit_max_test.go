package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// TestAuditMaxReachesTheStore: TRAINBOT_AUDIT_MAX, read from the
// environment as serve reads it, bounds the Redis audit stream that
// openStore opens. (commands' TestAuditStreamBoundedUnderRefusedCommands
// drives 10,000 refused commands into such a store; through trainbot serve
// end to end that takes 10 s, 80 s with -race, so it is not done here.)
func TestAuditMaxReachesTheStore(t *testing.T) {
	r := redistest.New(t)
	clearEnv(t)
	t.Setenv("REDIS_URL", r.URL)
	t.Setenv("TRAINBOT_REDIS_PREFIX", r.Prefix)
	t.Setenv("TRAINBOT_AUDIT_MAX", "1000")
	c, err := config(ModeCalendar)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	store, closer, err := openStore(t.Context(), c, trainstest.NewClock(at), newLogger(io.Discard, "error", false), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	for i := range 1500 {
		if err := store.Audit(t.Context(), trains.AuditEntry{At: at, User: fmt.Sprintf("U%05d", i), Action: "cut", Result: "refused: test"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := r.Client.XLen(t.Context(), r.Prefix+"audit").Result()
	if err != nil || n < 1000 || n > 1100 {
		t.Fatalf("XLEN audit = %d (%v) after 1500 appends with TRAINBOT_AUDIT_MAX=1000, want 1000 to 1100", n, err)
	}
}
