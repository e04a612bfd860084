package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The scheduler keeps the RFC's cadence to the second (SPEC §7): it wakes
// at the next due moment, not only at its poll.

// With a poll of ten minutes, the scheduler still wakes at the 1-hour
// reminder's moment and at the slot: it sleeps until exactly then (its
// alarm is set on trainbot's clock), and acts as the clock gets there.
func TestE2ESchedulerWakesAtReminderAndSlot(t *testing.T) {
	clock := trainstest.NewClock(at("2026-12-01 10:00"))
	e := startOnClock(t, clock, map[string]string{"TRAINBOT_SCHEDULER_TICK": "10m"})
	e.gh.AddCommits("main", 2)
	first := e.channelMessage("⏰", "dev-2026-12-01") // the 24-hour reminder, at the first tick

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	oneHour := at("2026-12-01 13:00")
	if err := clock.WaitAlarm(ctx, oneHour); err != nil {
		t.Fatalf("the scheduler does not sleep until the 1-hour reminder: %v", err)
	}
	clock.Set(oneHour)
	if _, err := e.slack.WaitMessage(ctx, func(m slackfake.Message) bool {
		return m.Channel == eChan && m.TS != first.TS && m.ThreadTS == "" && strings.Contains(m.AllText(), "⏰") && strings.Contains(m.AllText(), "dev-2026-12-01")
	}); err != nil {
		t.Fatalf("no 1-hour reminder at its moment: %v", err)
	}

	contains(t, e.slash(eRel, "confirm dev-2026-12-01"), "You confirmed dev-2026-12-01")
	slot := at("2026-12-01 14:00")
	if err := clock.WaitAlarm(ctx, slot); err != nil {
		t.Fatalf("the scheduler does not sleep until the slot: %v", err)
	}
	clock.Set(slot)
	if _, err := e.gh.WaitRequests(ctx, func(rs []githubfake.Request) bool { return slices.ContainsFunc(rs, isTagCreation) }); err != nil {
		t.Fatalf("no tag at the slot: %v", err)
	}
}

// On the real clock, the real binary: a confirmed dev train whose slot is
// about a minute ahead is tagged within 2 s of its slot, though the
// scheduler's poll is ten minutes.
func TestE2ETaggedOnTimeRealClock(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	slot := now.Add(15 * time.Second).Truncate(time.Minute).Add(time.Minute)
	r := redistest.New(t)
	w := newWorld(t, r.URL, r.Prefix)
	w.gh.SetRunSteps(1)
	w.gh.AddCommits("main", 2)
	w.start("a", 1, map[string]string{
		"TRAINBOT_DEV_SLOT":       fmt.Sprintf("%s %s", slot.Weekday().String()[:3], slot.Format("15:04")),
		"TRAINBOT_STAGING_SLOT":   fmt.Sprintf("%s 14:00", slot.Add(72 * time.Hour).Weekday().String()[:3]),
		"TRAINBOT_STAGING_ANCHOR": slot.Add(72 * time.Hour).Format(time.DateOnly),
		"TRAINBOT_SCHEDULER_TICK": "10m",
	})
	id := "dev-" + slot.Format("2006-01-02")
	contains(t, w.slash(eRel, "confirm "+id), "You confirmed "+id)
	tagged := w.waitRequest(time.Until(slot)+30*time.Second, "tag creation", isTagCreation)
	late := tagged.Sub(slot)
	t.Logf("slot %s, tagged %s after it", slot.Format(time.TimeOnly), late.Round(time.Millisecond))
	if late < 0 || late > 2*time.Second {
		t.Errorf("tagged %s after its slot, want within 2s", late)
	}
}
