package trains

import (
	"errors"
	"slices"
	"testing"
)

func TestTransitions(t *testing.T) {
	t.Parallel()
	happy := []State{Scheduled, Announced, Confirmed, Tagged, Publishing, Deploying, Deployed}
	tr := Train{ID: "dev-2026-12-01", State: Scheduled}
	now := utc("2026-12-01 14:00")
	for _, s := range happy[1:] {
		if err := tr.MoveTo(s, now); err != nil {
			t.Fatalf("happy path %s: %v", s, err)
		}
	}
	if !tr.State.Final() || !tr.Updated.Equal(now) {
		t.Errorf("state %s, updated %s", tr.State, tr.Updated)
	}
	err := tr.MoveTo(Tagged, now)
	var te *TransitionError
	if !errors.As(err, &te) || te.From != Deployed || te.To != Tagged {
		t.Fatalf("moving a deployed train: %v", err)
	}
	if tr.State != Deployed {
		t.Error("a refused move changed the state")
	}

	all := []State{Scheduled, Announced, Confirmed, Tagged, Publishing, Deploying, Deployed, Failed, Skipped, Postponed}
	legal := map[[2]State]bool{}
	for from, tos := range transitions {
		for _, to := range tos {
			legal[[2]State{from, to}] = true
		}
	}
	for _, from := range all {
		for _, to := range all {
			x := Train{ID: "x", State: from}
			err := x.MoveTo(to, now)
			if legal[[2]State{from, to}] != (err == nil) {
				t.Errorf("%s → %s: err = %v, legal = %v", from, to, err, legal[[2]State{from, to}])
			}
		}
	}
	// Skipping a train that is already tagged is not allowed: the tag exists.
	if Tagged.CanMoveTo(Skipped) {
		t.Error("a tagged train must not be skipped")
	}
}

func TestSignOff(t *testing.T) {
	t.Parallel()
	validators := []string{"V1", "V2", "CUT"}
	isV := func(u string) bool { return slices.Contains(validators, u) }
	tests := []struct {
		name      string
		approvals []string
		need      int
		ok        bool
		counted   int
	}{
		{"one validator", []string{"V1"}, 1, true, 1},
		{"none", nil, 1, false, 0},
		{"cutter's own approval does not count", []string{"CUT"}, 1, false, 0},
		{"non-validator does not count", []string{"R1"}, 1, false, 0},
		{"double counts once", []string{"V1", "V1"}, 2, false, 1},
		{"two needed, two given", []string{"V1", "CUT", "V2"}, 2, true, 2},
		{"zero needed", nil, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted, err := SignOff(tt.approvals, "CUT", isV, tt.need)
			if (err == nil) != tt.ok || len(counted) != tt.counted {
				t.Fatalf("SignOff = %v, %v", counted, err)
			}
			var se *SignOffError
			if !tt.ok && (!errors.As(err, &se) || se.Need != tt.need) {
				t.Errorf("error %v is not a SignOffError", err)
			}
		})
	}
	_, err := SignOff([]string{"CUT", "R1"}, "CUT", isV, 1)
	var se *SignOffError
	if !errors.As(err, &se) || se.Ignored["CUT"] == "" || se.Ignored["R1"] == "" {
		t.Errorf("ignored approvals not explained: %+v", se)
	}
}

func TestWorkflowInputs(t *testing.T) {
	t.Parallel()
	want := map[Track][2]string{Dev: {"dev", "dev"}, Staging: {"staging", "staging"}, Hotfix: {"staging", "hotfix"}}
	for tr, w := range want {
		in := tr.WorkflowInputs()
		if in["environment"] != w[0] || in["release_type"] != w[1] || len(in) != 2 {
			t.Errorf("%s inputs = %v", tr, in)
		}
	}
	if _, err := ParseTrack("prod"); err == nil {
		t.Error("prod accepted as a track")
	}
}
