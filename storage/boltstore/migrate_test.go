package boltstore_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// writeOldFile writes a state file as a trainbot from before the quiet
// window index did: windows by id only, no index bucket.
func writeOldFile(t *testing.T, dir string, ws ...trains.Window) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, boltstore.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("windows"))
		if err != nil {
			return err
		}
		for _, w := range ws {
			raw, err := json.Marshal(w)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(w.ID), raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOldFileWindows opens a file written without the window index: Open
// builds it, and Windows answers as it did.
func TestOldFileWindows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	win := func(id string, fromH, untilH int) trains.Window {
		return trains.Window{ID: id, From: storagetest.T0.Add(time.Duration(fromH) * time.Hour),
			Until: storagetest.T0.Add(time.Duration(untilH) * time.Hour), Reason: "r " + id, By: "U9", Created: storagetest.T0}
	}
	writeOldFile(t, dir, win("old", -100, -50), win("w1", -10, -2), win("w2", 1, 4), win("w3", 5, 8))

	clock := trainstest.NewClock(storagetest.T0)
	for range 2 { // and once more, with the index already there
		s, err := boltstore.Open(dir, clock)
		if err != nil {
			t.Fatalf("open an old file: %v", err)
		}
		for _, c := range []struct {
			sinceH int
			want   []string
		}{{0, []string{"w2", "w3"}}, {-3, []string{"w1", "w2", "w3"}}, {-1000, []string{"old", "w1", "w2", "w3"}}, {8, nil}} {
			got, err := s.Windows(t.Context(), storagetest.T0.Add(time.Duration(c.sinceH)*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, w := range got {
				ids = append(ids, w.ID)
			}
			if len(ids) != len(c.want) || (len(ids) > 0 && fmtIDs(ids) != fmtIDs(c.want)) {
				t.Errorf("windows since %dh: got %v, want %v", c.sinceH, ids, c.want)
			}
		}
		// A window ended early after the migration moves in the index.
		ended, err := trains.EndEarly(win("w3", 5, 8), storagetest.T0.Add(6*time.Hour), "U2")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutWindow(t.Context(), ended); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Windows(t.Context(), storagetest.T0.Add(7*time.Hour)); len(got) != 0 {
			t.Errorf("after ending w3 early: got %v, want none", got)
		}
		if err := s.PutWindow(t.Context(), win("w3", 5, 8)); err != nil { // put back for the second round
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func fmtIDs(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}
