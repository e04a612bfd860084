package trains

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// This file holds "who may" (SPEC §6). Each use case checks it itself, on
// the same read of the train it acts on, so that nothing changes between
// the check and the act; the command layer only parses and renders.

// permit is who may do something: holders of any of roles, or onCall
// (the on-call of the train concerned) when that is not empty.
type permit struct {
	roles  []Role
	onCall string
	// who names them in a refusal, e.g. "the train's on-call or releasers".
	who string
}

// anyRole permits the holders of roles.
func anyRole(roles ...Role) permit {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Plural()
	}
	return permit{roles: roles, who: strings.Join(names, " or ")}
}

// Plural names the holders of a role: "releasers", "chain ops", "validators".
func (r Role) Plural() string {
	if r == ChainOps {
		return "chain ops"
	}
	return string(r) + "s"
}

// authorize checks that user may do action under p. A refusal is a
// *UserError (Forbidden) naming who may, written to the audit log; so is a
// role that cannot be read now (a user group Slack does not answer for:
// roles fail closed). Other errors are returned as they are.
func (s *Service) authorize(ctx context.Context, user, action string, train TrainID, p permit) error {
	if p.onCall != "" && user == p.onCall {
		return nil
	}
	var unknown error
	for _, r := range p.roles {
		ok, err := s.roles.Has(ctx, user, r)
		switch {
		case errors.Is(err, ErrRoleUnknown):
			unknown = err
		case err != nil:
			return fmt.Errorf("check whether %s is one of the %s: %w", user, r.Plural(), err)
		case ok:
			return nil
		}
	}
	ue := &UserError{Forbidden: true, Text: Text{T("🚫 Only " + p.who + " may do that; ask one of them, or whoever runs trainbot to add you to the role. Nothing was changed.")}}
	if unknown != nil {
		// Roles fail closed: the error says which group and until when.
		ue.Text = Text{T("🚫 trainbot " + unknown.Error() + ". Nothing was changed.")}
	}
	s.audit(ctx, user, action, train, "", ue)
	return ue
}
