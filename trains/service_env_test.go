package trains_test

import (
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The service is tested through real adapters (internal/trainstack): the
// embedded store, and the GitHub Repo on go-github against githubfake.

const (
	releaser  = trainstack.Releaser
	validator = trainstack.Validator
	chainOps  = trainstack.ChainOps
)

type env struct {
	t     *testing.T
	clock *trainstest.Clock
	gh    *githubfake.Fake
	store trains.Store
	ann   *trainstest.Announcer
	svc   *trains.Service
	st    *trainstack.Stack
}

var at = trainstack.At

func newEnv(t *testing.T, now time.Time, edit ...func(*trains.ServiceConfig)) *env {
	t.Helper()
	o := trainstack.Options{}
	if len(edit) > 0 {
		o.Config = edit[0]
	}
	st := trainstack.New(t, now, o)
	return &env{t: t, clock: st.Clock, gh: st.GH, store: st.Store, ann: st.Ann, svc: st.Svc, st: st}
}

func (e *env) train(id trains.TrainID) trains.Train { e.t.Helper(); return e.st.Train(id) }

func (e *env) tag(name string) string { return e.st.Tag(name) }
