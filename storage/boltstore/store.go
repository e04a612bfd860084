// Package boltstore keeps trainbot's state in one bbolt file in a data
// folder (TRAINBOT_DATA_DIR), for a single instance: the console, a laptop,
// or a one-replica deployment without Redis.
//
// It has the semantics of the Redis store: each check-and-write is one
// bbolt transaction, so compare-and-set, claims and leases are atomic; lease
// and claim expiry come from an injected trains.Clock. bbolt holds a file
// lock, so a second trainbot (or a second Open) on the same folder fails
// fast with a clear error instead of waiting.
//
// No write's outcome is unclear here: a transaction runs in this process
// and Update returns once it has committed or rolled back, so the store
// knows which and never returns trains.ErrUnclear; there is nothing to
// settle (unlike the Redis store, whose reply can be lost on the network).
// The one exception is a disk that fails the fsync at commit: bbolt rolls
// back in memory, but the pages it wrote may be found on the next start.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/trainbot/trainbot/trains"
)

// FileName is the name of the database file in the data folder.
const FileName = "trainbot.db"

// DefaultLockTimeout is how long Open waits for another process's lock on
// the file before it gives up.
const DefaultLockTimeout = time.Second

// Store is a trains.Store in a bbolt file. It is safe for concurrent use.
type Store struct {
	db    *bbolt.DB
	dir   string
	clock trains.Clock
	log   *slog.Logger
	onErr func()
	// auditMax and trainAuditMax cap the audit log and each train's log
	// (0: no cap).
	auditMax, trainAuditMax uint64
	// retention is the age past which finished trains, deploy records and
	// quiet windows are deleted (0: never).
	retention time.Duration
}

var _ trains.Store = (*Store)(nil)
var _ trains.CalendarReader = (*Store)(nil)

// Option changes how Open sets the store up.
type Option func(*options)

type options struct {
	lockTimeout             time.Duration
	log                     *slog.Logger
	onErr                   func()
	auditMax, trainAuditMax uint64
	retention               time.Duration
}

// WithAuditMax bounds the audit log, and each train's audit log, to the
// newest n entries: each append deletes the oldest entries beyond n in the
// same transaction (0, the default, keeps every entry). Unlike Redis's
// approximate trim the bound is exact. A log that is already longer (a cap
// lowered, a file from before the cap) is cut to n at its next append.
func WithAuditMax(n int) Option {
	return func(o *options) { o.auditMax = uint64(max(n, 0)) }
}

// WithTrainAuditMax bounds each train's audit log to the newest n entries
// (0, the default: the cap WithAuditMax sets). A train's cap is never above
// the whole log's.
func WithTrainAuditMax(n int) Option {
	return func(o *options) { o.trainAuditMax = uint64(max(n, 0)) }
}

// WithErrorHook calls f on every failed call to the file (for a metric).
func WithErrorHook(f func()) Option { return func(o *options) { o.onErr = f } }

// WithLockTimeout sets how long Open waits for the file lock
// (DefaultLockTimeout when not given or not positive).
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lockTimeout = d
		}
	}
}

// WithLogger sets the logger (slog.Default by default).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// Bucket names.
var (
	bTrains       = []byte("trains")         // id → train JSON
	bTrainsByAt   = []byte("trains_by_at")   // timeKey(At)+id → id
	bTrainsOpen   = []byte("trains_open")    // timeKey(At)+id → id, non-final trains
	bWindows      = []byte("windows")        // id → window JSON
	bWindowsUntil = []byte("windows_until")  // timeKey(Until)+id → id, as Redis's windows:until
	bMeta         = []byte("meta")           // "rotation" → JSON, "line" → X.Y.Z
	bOverrides    = []byte("overrides")      // train id → user
	bSigned       = []byte("signed")         // id\x00kind → bucket {user → record JSON}; the older "signoffs" bucket is unused
	bClaims       = []byte("claims")         // key → expiry
	bClaimsExpiry = []byte("claims_expiry")  // timeKey(expiry)+key → key, to sweep expired claims
	bLeases       = []byte("leases")         // name → Lease JSON
	bFences       = []byte("fences")         // name → last token
	bAudit        = []byte("audit")          // seq → entry JSON; seqs are contiguous: the bucket's sequence is the newest
	bAuditByTrain = []byte("audit_by_train") // train id → bucket {seq → entry JSON}; its sequence counts its entries
	bDeploys      = []byte("deploys")        // run id → record JSON
	bDeploysByAt  = []byte("deploys_by_at")  // timeKey(At)+run id → run id
)

var allBuckets = [][]byte{bTrains, bTrainsByAt, bTrainsOpen, bWindows, bWindowsUntil, bMeta, bOverrides, bSigned,
	bClaims, bClaimsExpiry, bLeases, bFences, bAudit, bAuditByTrain, bDeploys, bDeploysByAt}

// Open opens (or creates) the store in the folder dir, creating the folder
// if needed. clock gives the time for lease and claim expiry. Close it when
// done: it holds a lock on the file.
func Open(dir string, clock trains.Clock, opts ...Option) (*Store, error) {
	o := options{lockTimeout: DefaultLockTimeout, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if clock == nil {
		return nil, errors.New("boltstore: no clock given")
	}
	if dir == "" {
		return nil, errors.New("boltstore: no data folder given: set TRAINBOT_DATA_DIR")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data folder %s: %w (set TRAINBOT_DATA_DIR to a folder trainbot may write)", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: o.lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("the data folder %s is in use by another trainbot (bolt lock held on %s for over %s); stop it or set TRAINBOT_DATA_DIR elsewhere: %w", dir, path, o.lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open the state file %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := migrate(tx); err != nil {
			return err
		}
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("prepare the state file %s: %w", path, err)
	}
	if o.trainAuditMax == 0 || (o.auditMax > 0 && o.trainAuditMax > o.auditMax) {
		o.trainAuditMax = o.auditMax
	}
	return &Store{db: db, dir: dir, clock: clock, log: o.log, onErr: o.onErr,
		auditMax: o.auditMax, trainAuditMax: o.trainAuditMax, retention: o.retention}, nil
}

// Path returns the path of the database file.
func (s *Store) Path() string { return s.db.Path() }

// Close closes the file and lets go of its lock.
func (s *Store) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the whole database to w while the
// store stays in use (one read transaction), and returns its size. Restore
// by stopping trainbot and putting the copy in place of FileName.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.view(ctx, "backup", func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Ping checks the file is open.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, "ping", func(*bbolt.Tx) error { return nil })
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, op string, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return s.unavailable(op, err)
	}
	return s.unavailable(op, s.db.View(fn))
}

// update runs fn in a write transaction; an error from fn rolls it back.
func (s *Store) update(ctx context.Context, op string, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return s.unavailable(op, err)
	}
	return s.unavailable(op, s.db.Update(fn))
}

// unavailable passes the port's outcomes (not found, conflict, lease lost)
// and corrupt records through, and wraps anything else — a closed
// database, an I/O error, a cancelled context — in trains.ErrUnavailable.
func (s *Store) unavailable(op string, err error) error {
	var ce *corruptError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, trains.ErrNotFound), errors.Is(err, trains.ErrConflict),
		errors.Is(err, trains.ErrLeaseLost), errors.Is(err, trains.ErrUnavailable):
		return err
	case errors.As(err, &ce):
		return fmt.Errorf("bolt: %s: %w", op, err)
	}
	s.log.Warn("bolt call failed", "op", op, "err", err)
	if s.onErr != nil {
		s.onErr()
	}
	return fmt.Errorf("bolt %s: %s: %w: %w", s.dir, op, trains.ErrUnavailable, err)
}

// corruptError is a stored value that does not decode.
type corruptError struct {
	what string
	err  error
}

func corrupt(what string, err error) error { return &corruptError{what, err} }

func (e *corruptError) Error() string {
	return fmt.Sprintf("%s does not decode (is the file from another program or version?): %v", e.what, e.err)
}

func (e *corruptError) Unwrap() error { return e.err }
