package storagetest

import (
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// testTrainGate: the Environments gate a deploy waits on, and the time it
// waited, are stored with the train, opened and closed again (so that a
// restarted trainbot knows it already said the run waits).
func testTrainGate(t *testing.T, h Harness) {
	ctx := ctxOf(t)
	v1 := create(t, h, train("staging", 0, trains.Deploying))
	waiting := v1
	waiting.Gate = &trains.Gate{Environments: []string{"staging"}, Users: []string{"ana"}, Teams: []string{"Chain Validators"},
		Since: T0.Add(90 * time.Second)}
	v2, err := h.Store.UpdateTrain(ctx, waiting, trains.Fence{})
	must(t, "open the gate", err)
	stored, err := h.Store.GetTrain(ctx, v1.ID)
	must(t, "get train", err)
	diff(t, "train waiting at the gate", v2, stored)
	if stored.Gate == nil || stored.Gate.Teams[0] != "Chain Validators" {
		t.Fatalf("gate not stored: %+v", stored.Gate)
	}

	passed := stored
	passed.Gate, passed.Waited = nil, 42*time.Minute+7*time.Second
	v3, err := h.Store.UpdateTrain(ctx, passed, trains.Fence{})
	must(t, "close the gate", err)
	stored, err = h.Store.GetTrain(ctx, v1.ID)
	must(t, "get train", err)
	diff(t, "train past the gate", v3, stored)
	if stored.Gate != nil || stored.Waited != 42*time.Minute+7*time.Second {
		t.Errorf("gate %+v, waited %v after closing", stored.Gate, stored.Waited)
	}
}
