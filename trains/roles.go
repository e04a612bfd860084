package trains

import "context"

// Role is what a person may do (SPEC §6).
type Role string

// The roles.
const (
	Releaser  Role = "releaser"
	ChainOps  Role = "chain ops"
	Validator Role = "validator"
)

// Roles says who holds which role. Implementations expand Slack user
// groups; errors say what could not be looked up.
type Roles interface {
	// Has reports whether user holds role.
	Has(ctx context.Context, user string, role Role) (bool, error)
	// Members lists the users holding role.
	Members(ctx context.Context, role Role) ([]string, error)
}
