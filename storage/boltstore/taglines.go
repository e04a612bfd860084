package boltstore

import (
	"context"
	"encoding/binary"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

// bTagLines holds the lines holding train tags: line "X.Y.Z" → empty, and
// the key kListed → when every tag was last listed (Unix milliseconds,
// 8 bytes big-endian). A few dozen lines a decade: it is never trimmed.
// It is made by the first write (a file from before has none).
var bTagLines = []byte("taglines")

// kListed is the bTagLines key of the last full listing's time; it cannot
// be a line.
var kListed = []byte("@listed")

var _ trains.TagLineIndex = (*Store)(nil)

// TagLines returns the lines kept, in one read transaction. A key that is
// not a line is left out.
func (s *Store) TagLines(ctx context.Context) (trains.TagLines, error) {
	var out trains.TagLines
	err := s.view(ctx, "read the lines of the train tags", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bTagLines)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if string(k) == string(kListed) {
				if len(v) == 8 {
					out.Listed = time.UnixMilli(int64(binary.BigEndian.Uint64(v))).UTC()
				}
				return nil
			}
			if l, err := trains.ParseLine(string(k)); err == nil {
				out.Lines = append(out.Lines, l)
			}
			return nil
		})
	})
	return out, err
}

// AddTagLines adds lines and, when listed is later than the time kept,
// keeps it, in one write transaction.
func (s *Store) AddTagLines(ctx context.Context, lines []trains.Line, listed time.Time) error {
	if len(lines) == 0 && listed.IsZero() {
		return nil
	}
	return s.update(ctx, "keep the lines of the train tags", func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bTagLines)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if err := b.Put([]byte(l.String()), []byte{}); err != nil {
				return err
			}
		}
		if listed.IsZero() {
			return nil
		}
		if v := b.Get(kListed); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= listed.UnixMilli() {
			return nil
		}
		return b.Put(kListed, binary.BigEndian.AppendUint64(nil, uint64(listed.UnixMilli())))
	})
}
