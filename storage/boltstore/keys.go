package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"go.etcd.io/bbolt"
)

// timeKey is a key that sorts as t does: seconds (sign bit flipped, big
// endian) then nanoseconds, then suffix.
func timeKey(t time.Time, suffix []byte) []byte {
	k := make([]byte, 12, 12+len(suffix))
	binary.BigEndian.PutUint64(k, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:], uint32(t.Nanosecond()))
	return append(k, suffix...)
}

// timeOf returns the time at the start of a timeKey.
func timeOf(k []byte) time.Time {
	if len(k) < 12 {
		return time.Time{}
	}
	sec := int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(k[8:])))
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// get decodes the JSON at key in b into v; ok is false when there is none.
func get(b *bbolt.Bucket, key []byte, what string, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, corrupt(what, err)
	}
	return true, nil
}

// put stores v as JSON at key in b.
func put(b *bbolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// putTimeIndexed stores v as JSON at key in b and indexes it in idx under
// timeKey(at(v), key), moving the index entry of the record it replaces.
func putTimeIndexed[V any](b, idx *bbolt.Bucket, key []byte, what string, v V, at func(V) time.Time) error {
	var old V
	ok, err := get(b, key, what, &old)
	if err != nil {
		return err
	}
	if ok {
		if err := idx.Delete(timeKey(at(old), key)); err != nil {
			return err
		}
	}
	if err := put(b, key, v); err != nil {
		return err
	}
	return idx.Put(timeKey(at(v), key), key)
}
