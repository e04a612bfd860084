package commands_test

import (
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

// /train stats shows how long deploys waited for GitHub Environment
// approvals.
func TestStatsShowApprovalWait(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-10 10:00")
	got, _ := h.do(t, validator, "stats")
	mustContain(t, got, "Waiting for approval: none")
	for _, tr := range []trains.Train{
		{ID: "dev-2026-12-01", Track: trains.Dev, At: trainstack.At("2026-12-01 14:00"), State: trains.Deployed, Waited: 42 * time.Minute},
		{ID: "dev-2026-12-08", Track: trains.Dev, At: trainstack.At("2026-12-08 14:00"), State: trains.Failed, Waited: 18 * time.Minute},
	} {
		if _, err := h.Store.CreateTrain(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = h.do(t, validator, "stats")
	mustContain(t, got, "Waiting for approval: 1h over 2 trains (30m on average)")
}
