package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

var (
	kUsers = []byte("users")
	kList  = []byte("list")
)

func signOffKey(id trains.TrainID, kind trains.SignOffKind) []byte {
	return []byte(string(id) + "\x00" + string(kind))
}

// AddSignOff records user's sign-off of kind on a train; added is false
// when user had already signed off.
func (s *Store) AddSignOff(ctx context.Context, id trains.TrainID, kind trains.SignOffKind, user string, at time.Time) (bool, error) {
	var added bool
	err := s.update(ctx, fmt.Sprintf("add %s of %s", kind, id), func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bSignOffs).CreateBucketIfNotExists(signOffKey(id, kind))
		if err != nil {
			return err
		}
		users, err := b.CreateBucketIfNotExists(kUsers)
		if err != nil {
			return err
		}
		list, err := b.CreateBucketIfNotExists(kList)
		if err != nil {
			return err
		}
		if users.Get([]byte(user)) != nil {
			return nil
		}
		if err := users.Put([]byte(user), []byte{1}); err != nil {
			return err
		}
		seq, err := list.NextSequence()
		if err != nil {
			return err
		}
		added = true
		return put(list, u64(seq), trains.SignOffRecord{User: user, At: at})
	})
	return added, err
}

// SignOffs returns the sign-offs of kind on a train, in the order made.
func (s *Store) SignOffs(ctx context.Context, id trains.TrainID, kind trains.SignOffKind) ([]trains.SignOffRecord, error) {
	var out []trains.SignOffRecord
	err := s.view(ctx, fmt.Sprintf("read %s of %s", kind, id), func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSignOffs).Bucket(signOffKey(id, kind))
		if b == nil {
			return nil
		}
		list := b.Bucket(kList)
		return list.ForEach(func(k, _ []byte) error {
			var r trains.SignOffRecord
			_, err := get(list, k, "a sign-off", &r)
			out = append(out, r)
			return err
		})
	})
	return out, err
}

// Audit appends an entry to the audit log, and to the train's log when it
// names a train, in one transaction that also trims each log to its cap
// (WithAuditMax, WithTrainAuditMax).
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
func (s *Store) RecordDeploy(ctx context.Context, d trains.DeployRecord) error {
	id := u64(uint64(d.RunID))
	return s.update(ctx, fmt.Sprintf("record deploy run %d", d.RunID), func(tx *bbolt.Tx) error {
		deploys, byAt := tx.Bucket(bDeploys), tx.Bucket(bDeploysByAt)
		var old trains.DeployRecord
		ok, err := get(deploys, id, "deploy record", &old)
		if err != nil {
			return err
		}
		if ok {
			if err := byAt.Delete(timeKey(old.At, id)); err != nil {
				return err
			}
		}
		if err := put(deploys, id, d); err != nil {
			return err
		}
		return byAt.Put(timeKey(d.At, id), id)
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
