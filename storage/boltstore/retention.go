package boltstore

import (
	"bytes"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

// trimBatch is the most records of one kind a write deletes for the
// retention: enough to keep up with any real pace of writes, small enough
// that a write stays quick on a file that has much to catch up.
const trimBatch = 100

// WithRetention deletes what is older than d (0, the default, keeps
// everything): finished trains whose At is older, with their sign-offs,
// override and own audit log; deploy records whose At is older; quiet
// windows that ended before; audit entries whose At is older (the log is
// also capped by count, WithAuditMax). An unfinished train is kept however
// old. The trim is on write: each train created, deploy recorded, window
// put or entry appended deletes up to 100 of the oldest of its kind that
// are past the retention,
// in the same transaction, so the file stays bounded by the retention (and
// the audit cap) without a pass of its own, and a file that was kept
// longer catches up over its next writes. bbolt reuses the freed pages;
// the file does not shrink, it stops growing.
func WithRetention(d time.Duration) Option {
	return func(o *options) { o.retention = max(d, 0) }
}

// cutoff is the time before which records go; ok is false without a retention.
func (s *Store) cutoff() (time.Time, bool) {
	if s.retention == 0 {
		return time.Time{}, false
	}
	return s.clock.Now().Add(-s.retention), true
}

// trimTrains deletes up to trimBatch of the oldest finished trains whose
// At is before the cutoff. Unfinished ones (in the open index) are stepped
// over: there are only ever a few.
func (s *Store) trimTrains(tx *bbolt.Tx) error {
	cut, ok := s.cutoff()
	if !ok {
		return nil
	}
	end := timeKey(cut, nil)
	open := tx.Bucket(bTrainsOpen)
	var gone [][]byte
	c := tx.Bucket(bTrainsByAt).Cursor()
	for k, id := c.First(); k != nil && bytes.Compare(k, end) < 0 && len(gone) < trimBatch; k, id = c.Next() {
		if open.Get(k) == nil {
			gone = append(gone, bytes.Clone(id)) // the cursor's bytes are not ours past the next change
		}
	}
	for _, id := range gone {
		if err := deleteTrain(tx, trains.TrainID(id)); err != nil {
			return fmt.Errorf("retention: delete train %s: %w", id, err)
		}
	}
	return nil
}

// deleteTrain deletes a train with everything kept under its id.
func deleteTrain(tx *bbolt.Tx, id trains.TrainID) error {
	t, err := getTrain(tx, id)
	if err != nil {
		return err
	}
	if err := unindexTrain(tx, t); err != nil {
		return err
	}
	if err := tx.Bucket(bTrains).Delete([]byte(id)); err != nil {
		return err
	}
	if err := tx.Bucket(bOverrides).Delete([]byte(id)); err != nil {
		return err
	}
	if tx.Bucket(bAuditByTrain).Bucket([]byte(id)) != nil {
		if err := tx.Bucket(bAuditByTrain).DeleteBucket([]byte(id)); err != nil {
			return err
		}
	}
	signed := tx.Bucket(bSigned)
	prefix := []byte(string(id) + "\x00")
	var kinds [][]byte
	c := signed.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		kinds = append(kinds, bytes.Clone(k))
	}
	for _, k := range kinds {
		if err := signed.DeleteBucket(k); err != nil {
			return err
		}
	}
	return nil
}

// trimDeploys deletes up to trimBatch of the oldest deploy records whose
// At is before the cutoff.
func (s *Store) trimDeploys(tx *bbolt.Tx) error {
	cut, ok := s.cutoff()
	if !ok {
		return nil
	}
	return trimIndexed(tx.Bucket(bDeploysByAt), tx.Bucket(bDeploys), timeKey(cut, nil))
}

// trimWindows deletes up to trimBatch of the windows that ended longest
// ago, before the cutoff.
func (s *Store) trimWindows(tx *bbolt.Tx) error {
	cut, ok := s.cutoff()
	if !ok {
		return nil
	}
	return trimIndexed(tx.Bucket(bWindowsUntil), tx.Bucket(bWindows), timeKey(cut, nil))
}

// trimIndexed deletes up to trimBatch entries of idx (timeKey → id) below
// end, and each one's record in data.
func trimIndexed(idx, data *bbolt.Bucket, end []byte) error {
	c := idx.Cursor()
	for i, k := 0, []byte(nil); i < trimBatch; i++ {
		var id []byte
		if k, id = c.First(); k == nil || bytes.Compare(k, end) >= 0 {
			return nil
		}
		if err := data.Delete(id); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// trimAudit deletes up to trimBatch of the oldest audit entries whose At
// is before the cutoff. The log is in the order of its appends, which is
// the order of their times but for clock skew: the trim stops at the first
// entry within the retention, so an entry is never deleted before an
// older-keyed one that is kept, and the keys stay contiguous for the cap.
func (s *Store) trimAudit(b *bbolt.Bucket) error {
	cut, ok := s.cutoff()
	if !ok {
		return nil
	}
	c := b.Cursor()
	for i := 0; i < trimBatch; i++ {
		k, _ := c.First()
		if k == nil {
			return nil
		}
		var e trains.AuditEntry
		if _, err := get(b, k, "audit entry", &e); err != nil {
			return err
		}
		if !e.At.Before(cut) {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
