package trains

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Clock tells the time. Production uses the system clock; tests inject one
// they move by hand.
type Clock interface {
	Now() time.Time
}

// Errors the ports return. Adapters wrap them (match with errors.Is).
var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a compare-and-set lost (someone else changed the record
	// first, or it already exists).
	ErrConflict = errors.New("changed by someone else")
	// ErrUnavailable: the state store cannot be reached; nothing was changed.
	ErrUnavailable = errors.New("state store unavailable — nothing was changed")
	// ErrUnclear: a write was sent but the store did not answer (a
	// timeout, a connection dropped), and reading back could not settle
	// whether it was applied: it may or may not have been. Never wrapped
	// together with ErrUnavailable, which promises nothing changed.
	ErrUnclear = errors.New("state store did not confirm the change — it may or may not have been made")
	// ErrLeaseLost: the lease or lock named by a fence is no longer held
	// with that token (it expired and someone else may hold it).
	ErrLeaseLost = errors.New("lease lost")
)

// SignOffKind says what a sign-off on a train means.
type SignOffKind string

// The kinds of sign-off.
const (
	// Approval: a validator approves a staging train (SPEC §2).
	Approval SignOffKind = "approval"
	// Confirmation: the on-call or a releaser is on it ("I'm on it").
	Confirmation SignOffKind = "confirmation"
)

// SignOffRecord is one person's sign-off on a train. An approval names the
// candidate it was given for (SPEC §2): the dev tag a staging train would
// promote, that tag's commit, and the hotfixes the promotion would leave
// out; it counts only while the train would ship that candidate.
type SignOffRecord struct {
	User string    `json:"user"`
	At   time.Time `json:"at"`
	// Promotes, Commit and Without are the approved candidate; empty for a
	// confirmation.
	Promotes string   `json:"promotes,omitempty"`
	Commit   string   `json:"commit,omitempty"`
	Without  []string `json:"without,omitempty"`
}

// Approves reports whether the sign-off was given for candidate c.
func (r SignOffRecord) Approves(c Candidate) bool {
	return r.Promotes == c.Promotes && r.Commit == c.Commit && slices.Equal(r.Without, c.Without)
}

// Signs names what the sign-off is for, as one string the stores compare:
// two sign-offs of one user with the same Signs sign the same thing (their
// times may differ). Empty for a confirmation.
func (r SignOffRecord) Signs() string {
	if r.Promotes == "" && r.Commit == "" && len(r.Without) == 0 {
		return ""
	}
	return r.Promotes + "@" + r.Commit + "-" + strings.Join(r.Without, ",")
}

// Lease is a named lock with an expiry and a fencing token: the track locks
// ("track:dev") and the scheduler's leader lease ("scheduler").
type Lease struct {
	Name   string    `json:"name"`
	Holder string    `json:"holder"`
	Token  int64     `json:"token"`
	Expiry time.Time `json:"expiry"`
}

// Fence is what a write guarded by a lease carries: the lease name and the
// token the holder got. The zero Fence guards nothing.
type Fence struct {
	Lease string
	Token int64
}

// Fence returns the fence for writes made under l.
func (l Lease) Fence() Fence { return Fence{Lease: l.Name, Token: l.Token} }

// AuditEntry is one line of the audit log: who did what, when, and how it went.
type AuditEntry struct {
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Action string    `json:"action"`
	Train  TrainID   `json:"train,omitempty"`
	Detail string    `json:"detail,omitempty"`
	// Result is "ok", "refused: …" or "failed: …".
	Result string `json:"result"`
}

// DeployRecord is one run of the deploy workflow, for stats and for
// surprise-deploy detection.
type DeployRecord struct {
	RunID int64     `json:"run_id"`
	At    time.Time `json:"at"`
	// Ref is the ref the run deployed: a train tag, or e.g. main.
	Ref string `json:"ref"`
	// Track is the track of Ref when it is a train tag; empty for an
	// unscheduled deploy.
	Track      Track  `json:"track,omitempty"`
	Conclusion string `json:"conclusion,omitempty"`
	URL        string `json:"url,omitempty"`
}

// Unscheduled reports whether the deploy did not come from a train tag.
func (d DeployRecord) Unscheduled() bool { return d.Track == "" }

// TrainQuery selects trains by time.
type TrainQuery struct {
	// From and To bound Train.At: From <= At < To. A zero To has no bound.
	From, To time.Time
	// Newest, when above zero, keeps only the newest Newest of them.
	Newest int
}

// Store keeps trainbot's state. Every method returns an error wrapping
// ErrUnavailable when the store cannot be reached, and changes nothing then.
// A write whose outcome is unclear (sent, then a timeout or a dropped
// connection) is settled by the store before it returns: read back, or
// retried where the write is idempotent, so the caller gets the true
// result; only when that cannot be done either does it return an error
// wrapping ErrUnclear (SPEC §7).
type Store interface {
	// Ping checks the store answers.
	Ping(ctx context.Context) error

	// CreateTrain stores a new train with Version 1 and returns it.
	// ErrConflict: a train with that id exists.
	CreateTrain(ctx context.Context, t Train) (Train, error)
	// GetTrain returns a train. ErrNotFound: no such train.
	GetTrain(ctx context.Context, id TrainID) (Train, error)
	// UpdateTrain replaces a train if its stored Version is t.Version, and
	// returns it with Version one higher. ErrNotFound: no such train.
	// ErrConflict: the stored version differs. When fence is not zero, the
	// write is made only while that lease is held with that token, else
	// ErrLeaseLost.
	UpdateTrain(ctx context.Context, t Train, fence Fence) (Train, error)
	// ListTrains returns the trains q selects, oldest first.
	ListTrains(ctx context.Context, q TrainQuery) ([]Train, error)
	// OpenTrains returns the trains not in a final state, oldest first.
	OpenTrains(ctx context.Context) ([]Train, error)

	// PutWindow stores a quiet window by its ID, replacing any with that ID.
	PutWindow(ctx context.Context, w Window) error
	// Windows returns the quiet windows that end after since, by start time.
	Windows(ctx context.Context, since time.Time) ([]Window, error)

	// Rotation returns the on-call rotation. ErrNotFound: none was set.
	Rotation(ctx context.Context) (Rotation, error)
	// SetRotation sets the members and start of the rotation, keeping its overrides.
	SetRotation(ctx context.Context, members []string, since time.Time) error
	// SetOverrides sets one-train overrides, all or none.
	SetOverrides(ctx context.Context, overrides map[TrainID]string) error

	// AddSignOff records r.User's sign-off of kind on a train. A user has
	// one sign-off of a kind per train: added is false when theirs is
	// already for the same thing (the same Signs: a double click counts
	// once); one for something else is replaced by r.
	AddSignOff(ctx context.Context, id TrainID, kind SignOffKind, r SignOffRecord) (added bool, err error)
	// SignOffs returns the sign-offs of kind on a train, oldest first.
	SignOffs(ctx context.Context, id TrainID, kind SignOffKind) ([]SignOffRecord, error)
	// RemoveSignOffs removes the given sign-offs of kind on a train, each
	// only while the user's stored one still Signs the same: a cut uses up
	// the approvals it relied on, and never one given after it read them.
	RemoveSignOffs(ctx context.Context, id TrainID, kind SignOffKind, used []SignOffRecord) error

	// Claim takes an operation key (an envelope id, a reminder sent, an
	// announcement made): the first caller gets true, later callers false,
	// until ttl passes. A caller that gets an error has not claimed the key:
	// after ErrUnclear the store gives back, as soon as it can, a claim
	// that call may have taken, so the operation is not skipped for good.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Unclaim gives a key back, so that an operation that failed may be tried again.
	Unclaim(ctx context.Context, key string) error

	// TryLease takes the named lease for holder for ttl. When another holder
	// has it, ok is false and the returned Lease is theirs. Each grant to a
	// new holder gets a token greater than every earlier one.
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (l Lease, ok bool, err error)
	// RenewLease extends a lease still held with l's token. ErrLeaseLost: it is not.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease gives a lease up if it is still held with l's token;
	// releasing a lease already lost is not an error.
	ReleaseLease(ctx context.Context, l Lease) error

	// StartedLine returns the line a releaser started with `/train line`,
	// or the zero Line when none was.
	StartedLine(ctx context.Context) (Line, error)
	// SetStartedLine records a line started with `/train line`.
	SetStartedLine(ctx context.Context, l Line) error

	// Audit appends an entry to the audit log.
	Audit(ctx context.Context, e AuditEntry) error
	// AuditLog returns the newest limit entries, newest first; only those
	// of train when train is not empty.
	AuditLog(ctx context.Context, train TrainID, limit int) ([]AuditEntry, error)

	// RecordDeploy stores a deploy record; recording a RunID again replaces it.
	RecordDeploy(ctx context.Context, d DeployRecord) error
	// Deploys returns the deploy records with from <= At < to, oldest first.
	Deploys(ctx context.Context, from, to time.Time) ([]DeployRecord, error)
}
