package bot

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains"
)

func TestDirectory(t *testing.T) {
	t.Parallel()
	e := newGroupsEnv(t, GroupsConfig{})
	e.fake.SetUserGroup("S2", "U5")
	// Releasers: U9 by id, groups S1 (U1 W2) and S2 (U5).
	d := NewDirectory([]string{"S1", "U9", "S2"}, nil, []string{"S2"}, e.g)
	has := func(user string, role trains.Role) (bool, error) {
		return d.Has(e.ctx, user, role)
	}

	t.Run("listed by id: no group read", func(t *testing.T) {
		e.fake.FailNext(groupsMethod, -1, slackfake.APIError("fatal_error"))
		defer e.fake.ClearFaults(groupsMethod)
		if ok, err := has("U9", trains.Releaser); !ok || err != nil {
			t.Errorf("Has(U9) = %t, %v", ok, err)
		}
		e.calls(0)
	})
	t.Run("all groups failing", func(t *testing.T) {
		e.fake.FailNext(groupsMethod, -1, slackfake.APIError("fatal_error"))
		defer e.fake.ClearFaults(groupsMethod)
		ok, err := has("U1", trains.Releaser)
		if ok || !errors.Is(err, trains.ErrRoleUnknown) {
			t.Fatalf("Has(U1) = %t, %v; want an error wrapping trains.ErrRoleUnknown", ok, err)
		}
		for _, want := range []string{"cannot check the releaser role now", "user group S1 cannot be read", "user group S2 cannot be read", "fatal_error"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if m, err := d.Members(e.ctx, trains.Releaser); m != nil || !errors.Is(err, trains.ErrRoleUnknown) {
			t.Errorf("Members = %v, %v; want trains.ErrRoleUnknown", m, err)
		}
	})
	t.Run("a group member", func(t *testing.T) {
		for user, want := range map[string]bool{"U1": true, "W2": true, "U5": true, "U7": false} {
			if ok, err := has(user, trains.Releaser); ok != want || err != nil {
				t.Errorf("Has(%s) = %t, %v; want %t", user, ok, err, want)
			}
		}
		if ok, err := has("U1", trains.Validator); ok || err != nil {
			t.Errorf("Has(U1, validator) = %t, %v; want false", ok, err)
		}
		if ok, err := has("U9", trains.ChainOps); ok || err != nil {
			t.Errorf("Has(U9, chain ops) = %t, %v; want false", ok, err)
		}
		members, err := d.Members(e.ctx, trains.Releaser)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"U1", "U5", "U9", "W2"}, members); diff != "" {
			t.Errorf("Members (-want +got):\n%s", diff)
		}
	})
	t.Run("one group failing, another says yes", func(t *testing.T) {
		g := newGroupsEnv(t, GroupsConfig{})
		g.fake.SetUserGroup("S2", "U5")
		// S9 is no group Slack knows: it cannot be read. The groups are
		// read concurrently, so which request a fault would hit is not
		// known; a missing group fails every time.
		d := NewDirectory([]string{"S9", "S2"}, nil, nil, g.g)
		if ok, err := d.Has(g.ctx, "U5", trains.Releaser); !ok || err != nil {
			t.Errorf("Has(U5) = %t, %v; want true from S2", ok, err)
		}
		ok, err := d.Has(g.ctx, "U7", trains.Releaser)
		if ok || !errors.Is(err, trains.ErrRoleUnknown) || !strings.Contains(err.Error(), "S9") || strings.Contains(err.Error(), "S2") {
			t.Errorf("Has(U7) = %t, %v; want an error wrapping trains.ErrRoleUnknown naming S9 only", ok, err)
		}
	})
}

func TestDirectoryWithoutSlack(t *testing.T) {
	t.Parallel()
	d := NewDirectory([]string{"U1", "S1"}, nil, nil, nil)
	if ok, err := d.Has(t.Context(), "U1", trains.Releaser); !ok || err != nil {
		t.Errorf("Has(U1) = %t, %v", ok, err)
	}
	if ok, err := d.Has(t.Context(), "U2", trains.Releaser); ok || err != nil {
		t.Errorf("Has(U2) = %t, %v; want false: groups match nobody without Slack", ok, err)
	}
	if m, err := d.Members(t.Context(), trains.Releaser); err != nil || !cmp.Equal(m, []string{"U1"}) {
		t.Errorf("Members = %v, %v", m, err)
	}
}
