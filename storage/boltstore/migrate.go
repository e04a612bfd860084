package boltstore

import (
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

// migrate brings a file written by an older trainbot up to date, in the
// transaction that opens it: it builds the indexes that file lacks. A
// missing index bucket is the mark of an old file, so a file is migrated
// once, and a crash before the commit leaves it as it was.
func migrate(tx *bbolt.Tx) error {
	if tx.Bucket(bWindowsUntil) != nil {
		return nil
	}
	idx, err := tx.CreateBucket(bWindowsUntil)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bWindowsUntil, err)
	}
	ws := tx.Bucket(bWindows)
	if ws == nil {
		return nil
	}
	return ws.ForEach(func(k, _ []byte) error {
		var w trains.Window
		if _, err := get(ws, k, "quiet window "+string(k), &w); err != nil {
			return err
		}
		return idx.Put(timeKey(w.Until, k), k)
	})
}
