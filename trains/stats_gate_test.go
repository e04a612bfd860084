package trains

import (
	"testing"
	"time"
)

// Time waited at the Environments gate counts for the trains of the
// period: what finished trains waited, and a wait still going on up to
// the period's end.
func TestComputeStatsApprovalWait(t *testing.T) {
	t.Parallel()
	from, to := utc("2026-12-01 00:00"), utc("2026-12-31 00:00")
	trains := []Train{
		{ID: "dev-2026-12-01", Track: Dev, At: utc("2026-12-01 14:00"), State: Deployed, Waited: 42 * time.Minute},
		{ID: "staging-2026-12-09", Track: Staging, At: utc("2026-12-09 14:00"), State: Failed, Waited: 3 * time.Hour},
		{ID: "dev-2026-12-29", Track: Dev, At: utc("2026-12-29 14:00"), State: Deploying, Waited: time.Minute,
			Gate: &Gate{Environments: []string{"dev"}, Since: utc("2026-12-30 23:00")}},
		{ID: "dev-2026-12-08", Track: Dev, At: utc("2026-12-08 14:00"), State: Deployed},
		{ID: "dev-2026-11-24", Track: Dev, At: utc("2026-11-24 14:00"), State: Deployed, Waited: time.Hour}, // before
	}
	got := ComputeStats(from, to, nil, trains)
	if want := 42*time.Minute + 3*time.Hour + time.Minute + time.Hour; got.ApprovalWaits != 3 || got.ApprovalWait != want {
		t.Errorf("approval waits = %d, %v; want 3, %v", got.ApprovalWaits, got.ApprovalWait, want)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 12 * time.Second: "12s", 42 * time.Minute: "42m", time.Hour: "1h", 65 * time.Minute: "1h 5m",
		51 * time.Hour: "2d 3h", 48 * time.Hour: "2d",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
