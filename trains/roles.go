package trains

import (
	"context"
	"errors"
)

// Role is what a person may do (SPEC §6).
type Role string

// The roles.
const (
	Releaser  Role = "releaser"
	ChainOps  Role = "chain ops"
	Validator Role = "validator"
)

// ErrRoleUnknown is wrapped by Roles errors when who holds a role cannot
// be read now: a user group Slack does not answer for, and whose cached
// members are too old to trust (SPEC §6: roles fail closed). The use case
// refuses the role and says why; nothing is changed.
var ErrRoleUnknown = errors.New("role membership cannot be read")

// Roles says who holds which role. Implementations expand Slack user
// groups; errors say what could not be looked up and wrap ErrRoleUnknown
// when membership cannot be read now.
type Roles interface {
	// Has reports whether user holds role.
	Has(ctx context.Context, user string, role Role) (bool, error)
	// Members lists the users holding role.
	Members(ctx context.Context, role Role) ([]string, error)
}
