package boltstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

func signOffKey(id trains.TrainID, kind trains.SignOffKind) []byte {
	return []byte(string(id) + "\x00" + string(kind))
}

// AddSignOff records r.User's sign-off of kind on a train; added is false
// when theirs already signs the same, and one for something else is replaced.
func (s *Store) AddSignOff(ctx context.Context, id trains.TrainID, kind trains.SignOffKind, r trains.SignOffRecord) (bool, error) {
	var added bool
	err := s.update(ctx, fmt.Sprintf("add %s of %s", kind, id), func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bSigned).CreateBucketIfNotExists(signOffKey(id, kind))
		if err != nil {
			return err
		}
		var old trains.SignOffRecord
		if ok, err := get(b, []byte(r.User), "a sign-off", &old); err != nil || (ok && old.Signs() == r.Signs()) {
			return err
		}
		added = true
		return put(b, []byte(r.User), r)
	})
	return added, err
}

// SignOffs returns the sign-offs of kind on a train, oldest first.
func (s *Store) SignOffs(ctx context.Context, id trains.TrainID, kind trains.SignOffKind) ([]trains.SignOffRecord, error) {
	var out []trains.SignOffRecord
	err := s.view(ctx, fmt.Sprintf("read %s of %s", kind, id), func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSigned).Bucket(signOffKey(id, kind))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			var r trains.SignOffRecord
			_, err := get(b, k, "a sign-off", &r)
			out = append(out, r)
			return err
		})
	})
	slices.SortFunc(out, func(a, b trains.SignOffRecord) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.User, b.User)) })
	return out, err
}

// RemoveSignOffs removes the given sign-offs of kind on a train, each only
// while the user's stored one still signs the same.
func (s *Store) RemoveSignOffs(ctx context.Context, id trains.TrainID, kind trains.SignOffKind, used []trains.SignOffRecord) error {
	if len(used) == 0 {
		return nil
	}
	return s.update(ctx, fmt.Sprintf("remove %s of %s", kind, id), func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSigned).Bucket(signOffKey(id, kind))
		if b == nil {
			return nil
		}
		for _, r := range used {
			var cur trains.SignOffRecord
			ok, err := get(b, []byte(r.User), "a sign-off", &cur)
			if err != nil {
				return err
			}
			if ok && cur.Signs() == r.Signs() {
				if err := b.Delete([]byte(r.User)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Audit appends an entry to the audit log, and to the train's log when it
// names a train, in one transaction that also trims each log to its cap
// (WithAuditMax, WithTrainAuditMax) and the whole log to the retention
// (WithRetention).
func (s *Store) Audit(ctx context.Context, e trains.AuditEntry) error {
	return s.update(ctx, "audit "+e.Action, func(tx *bbolt.Tx) error {
		all := tx.Bucket(bAudit)
		seq, err := all.NextSequence()
		if err != nil {
			return err
		}
		if err := put(all, u64(seq), e); err != nil {
			return err
		}
		if err := trimBySequence(all, seq, s.auditMax); err != nil {
			return fmt.Errorf("trim the audit log: %w", err)
		}
		if err := s.trimAudit(all); err != nil {
			return fmt.Errorf("trim the audit log by age: %w", err)
		}
		if e.Train == "" {
			return nil
		}
		per, err := tx.Bucket(bAuditByTrain).CreateBucketIfNotExists([]byte(e.Train))
		if err != nil {
			return err
		}
		if err := appendCounted(per, u64(seq), e, s.trainAuditMax); err != nil {
			return fmt.Errorf("audit log of %s: %w", e.Train, err)
		}
		return nil
	})
}

// trimBySequence deletes the oldest entries of b, a bucket whose keys are
// the sequence numbers 1…newest with only the oldest ones deleted, until
// it holds the newest max keys (newest−max+1 … newest). The count comes
// from the keys, so no append scans the bucket: it reads the first key and
// deletes what is over. max 0 keeps everything.
func trimBySequence(b *bbolt.Bucket, newest, max uint64) error {
	if max == 0 || newest <= max {
		return nil
	}
	keep := newest - max + 1 // the oldest key kept
	c := b.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < keep; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// appendCounted puts e at key (above every key of b) and deletes b's
// oldest entries until it holds at most max (0: no cap). b's sequence
// counts its entries, so no append scans the bucket; a bucket from before
// the count (sequence 0 with entries in it) is counted once.
func appendCounted(b *bbolt.Bucket, key []byte, e trains.AuditEntry, max uint64) error {
	n := b.Sequence()
	if n == 0 {
		if err := b.ForEach(func(_, _ []byte) error { n++; return nil }); err != nil {
			return err
		}
	}
	if b.Get(key) == nil {
		n++
	}
	if err := put(b, key, e); err != nil {
		return err
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil && max > 0 && n > max; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	return b.SetSequence(n)
}

// AuditLog returns the newest limit entries, newest first (all when limit
// is not above zero); only those of train when train is not empty.
func (s *Store) AuditLog(ctx context.Context, train trains.TrainID, limit int) ([]trains.AuditEntry, error) {
	var out []trains.AuditEntry
	err := s.view(ctx, "read audit log", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAudit)
		if train != "" {
			if b = tx.Bucket(bAuditByTrain).Bucket([]byte(train)); b == nil {
				return nil
			}
		}
		c := b.Cursor()
		for k, _ := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Prev() {
			var e trains.AuditEntry
			if _, err := get(b, k, "audit entry", &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// RecordDeploy stores a deploy record; recording a RunID again replaces it.
// With WithRetention it also deletes the oldest records past it.
func (s *Store) RecordDeploy(ctx context.Context, d trains.DeployRecord) error {
	id := u64(uint64(d.RunID))
	return s.update(ctx, fmt.Sprintf("record deploy run %d", d.RunID), func(tx *bbolt.Tx) error {
		at := func(d trains.DeployRecord) time.Time { return d.At }
		if err := putTimeIndexed(tx.Bucket(bDeploys), tx.Bucket(bDeploysByAt), id, "deploy record", d, at); err != nil {
			return err
		}
		return s.trimDeploys(tx)
	})
}

// Deploys returns the deploy records with from <= At < to, oldest first.
func (s *Store) Deploys(ctx context.Context, from, to time.Time) ([]trains.DeployRecord, error) {
	var out []trains.DeployRecord
	err := s.view(ctx, "list deploys", func(tx *bbolt.Tx) error {
		deploys := tx.Bucket(bDeploys)
		c := tx.Bucket(bDeploysByAt).Cursor()
		end := timeKey(to, nil)
		for k, id := c.Seek(timeKey(from, nil)); k != nil && string(k) < string(end); k, id = c.Next() {
			var d trains.DeployRecord
			if _, err := get(deploys, id, fmt.Sprintf("deploy record %d", binary.BigEndian.Uint64(id)), &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}
