package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// forbidden is a refusal for want of a role.
type forbidden struct{ need string }

func (f *forbidden) Error() string {
	return fmt.Sprintf("only %s may do that; ask one of them, or a releaser to add you to the role", f.need)
}

// anyOf checks that user holds one of roles; it returns a *forbidden naming them.
func anyOf(ctx context.Context, r trains.Roles, user string, roles ...trains.Role) error {
	var names []string
	for _, role := range roles {
		ok, err := r.Has(ctx, user, role)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		names = append(names, plural(role))
	}
	return &forbidden{need: strings.Join(names, " or ")}
}

// plural names the holders of a role.
func plural(r trains.Role) string {
	if r == trains.ChainOps {
		return "chain ops"
	}
	return string(r) + "s"
}
