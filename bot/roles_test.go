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
	e.fake.SetUserGroup("S02", "U05")
	// Releasers: U09 by id, groups S01 (U01 W02) and S02 (U05).
	d := NewDirectory([]string{"S01", "U09", "S02"}, nil, []string{"S02"}, e.g)
	has := func(user string, role trains.Role) (bool, error) {
		return d.Has(e.ctx, user, role)
	}

	t.Run("listed by id: no group read", func(t *testing.T) {
		e.fake.FailNext(groupsMethod, -1, slackfake.APIError("fatal_error"))
		defer e.fake.ClearFaults(groupsMethod)
		if ok, err := has("U09", trains.Releaser); !ok || err != nil {
			t.Errorf("Has(U09) = %t, %v", ok, err)
		}
		e.calls(0)
	})
	t.Run("all groups failing", func(t *testing.T) {
		e.fake.FailNext(groupsMethod, -1, slackfake.APIError("fatal_error"))
		defer e.fake.ClearFaults(groupsMethod)
		ok, err := has("U01", trains.Releaser)
		if ok || !errors.Is(err, trains.ErrRoleUnknown) {
			t.Fatalf("Has(U01) = %t, %v; want an error wrapping trains.ErrRoleUnknown", ok, err)
		}
		for _, want := range []string{"cannot check the releaser role now", "user group S01 cannot be read", "user group S02 cannot be read", "fatal_error"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if m, err := d.Members(e.ctx, trains.Releaser); m != nil || !errors.Is(err, trains.ErrRoleUnknown) {
			t.Errorf("Members = %v, %v; want trains.ErrRoleUnknown", m, err)
		}
	})
	t.Run("a group member", func(t *testing.T) {
		for user, want := range map[string]bool{"U01": true, "W02": true, "U05": true, "U07": false} {
			if ok, err := has(user, trains.Releaser); ok != want || err != nil {
				t.Errorf("Has(%s) = %t, %v; want %t", user, ok, err, want)
			}
		}
		if ok, err := has("U01", trains.Validator); ok || err != nil {
			t.Errorf("Has(U01, validator) = %t, %v; want false", ok, err)
		}
		if ok, err := has("U09", trains.ChainOps); ok || err != nil {
			t.Errorf("Has(U09, chain ops) = %t, %v; want false", ok, err)
		}
		members, err := d.Members(e.ctx, trains.Releaser)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"U01", "U05", "U09", "W02"}, members); diff != "" {
			t.Errorf("Members (-want +got):\n%s", diff)
		}
	})
	t.Run("one group failing, another says yes", func(t *testing.T) {
		g := newGroupsEnv(t, GroupsConfig{})
		g.fake.SetUserGroup("S02", "U05")
		// S09 is no group Slack knows: it cannot be read. The groups are
		// read concurrently, so which request a fault would hit is not
		// known; a missing group fails every time.
		d := NewDirectory([]string{"S09", "S02"}, nil, nil, g.g)
		if ok, err := d.Has(g.ctx, "U05", trains.Releaser); !ok || err != nil {
			t.Errorf("Has(U05) = %t, %v; want true from S02", ok, err)
		}
		ok, err := d.Has(g.ctx, "U07", trains.Releaser)
		if ok || !errors.Is(err, trains.ErrRoleUnknown) || !strings.Contains(err.Error(), "S09") || strings.Contains(err.Error(), "S02") {
			t.Errorf("Has(U07) = %t, %v; want an error wrapping trains.ErrRoleUnknown naming S09 only", ok, err)
		}
	})
}

func TestDirectoryWithoutSlack(t *testing.T) {
	t.Parallel()
	d := NewDirectory([]string{"U01", "S01"}, nil, nil, nil)
	if ok, err := d.Has(t.Context(), "U01", trains.Releaser); !ok || err != nil {
		t.Errorf("Has(U01) = %t, %v", ok, err)
	}
	if ok, err := d.Has(t.Context(), "U02", trains.Releaser); ok || err != nil {
		t.Errorf("Has(U02) = %t, %v; want false: groups match nobody without Slack", ok, err)
	}
	if m, err := d.Members(t.Context(), trains.Releaser); err != nil || !cmp.Equal(m, []string{"U01"}) {
		t.Errorf("Members = %v, %v", m, err)
	}
}
