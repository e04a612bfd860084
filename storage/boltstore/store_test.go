package boltstore_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// newHarness opens a store in a fresh folder; time passes by moving its clock.
func newHarness(t testing.TB) storagetest.Harness {
	clock := trainstest.NewClock(storagetest.T0)
	return storagetest.Harness{
		Store:   openStore(t, clock),
		Advance: func(_ testing.TB, d time.Duration) { clock.Advance(d) },
		Bounded: func(t testing.TB, max, trainMax int) trains.Store {
			return openStore(t, clock, boltstore.WithAuditMax(max), boltstore.WithTrainAuditMax(trainMax))
		},
		AuditSlack: 0, // the trim is exact
	}
}

// openStore opens a store in a fresh folder, closed when t ends.
func openStore(t testing.TB, clock trains.Clock, opts ...boltstore.Option) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(t.TempDir(), clock, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, newHarness)
}

func TestSecondOpenFailsFast(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	clock := trainstest.NewClock(storagetest.T0)
	s, err := boltstore.Open(dir, clock)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()

	start := time.Now()
	_, err = boltstore.Open(dir, clock, boltstore.WithLockTimeout(100*time.Millisecond))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("second open took %s, want about the lock timeout", took)
	}
	if err == nil || !strings.Contains(err.Error(), "in use by another trainbot") || !strings.Contains(err.Error(), "TRAINBOT_DATA_DIR") {
		t.Fatalf("second open: got %v, want an error saying the folder is in use and what to do", err)
	}

	// Once the first one is closed, the folder opens again, with its data.
	_, err = s.CreateTrain(t.Context(), trains.Train{ID: "dev-2026-12-01", Track: "dev", At: storagetest.T0, State: trains.Scheduled})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s2, err := boltstore.Open(dir, clock)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if _, err := s2.GetTrain(t.Context(), "dev-2026-12-01"); err != nil {
		t.Fatalf("train after reopen: %v", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	s, err := boltstore.Open(t.TempDir(), trainstest.NewClock(storagetest.T0))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, trains.ErrUnavailable) {
		t.Errorf("ping a closed store: got %v, want ErrUnavailable", err)
	}
	if _, err := s.Claim(t.Context(), "k", time.Minute); !errors.Is(err, trains.ErrUnavailable) {
		t.Errorf("claim on a closed store: got %v, want ErrUnavailable", err)
	}
}

func TestBackup(t *testing.T) {
	t.Parallel()
	s, err := boltstore.Open(t.TempDir(), trainstest.NewClock(storagetest.T0))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if err := s.SetStartedLine(t.Context(), trains.Line{Minor: 6}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := s.Backup(t.Context(), &buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("backup: n=%d len=%d err=%v", n, buf.Len(), err)
	}
	// The copy is a bbolt file that opens to the same state.
	dir := t.TempDir()
	if err := writeFile(filepath.Join(dir, boltstore.FileName), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	restored, err := boltstore.Open(dir, trainstest.NewClock(storagetest.T0))
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer restored.Close()
	if l, err := restored.StartedLine(t.Context()); err != nil || l != (trains.Line{Minor: 6}) {
		t.Fatalf("line in the copy: %v %v", l, err)
	}
}

func BenchmarkCASContention(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(benchName(n), func(b *testing.B) { storagetest.BenchCAS(b, newHarness(b), n) })
	}
}

// TestAuditCapOnAnOlderFile: logs written without a cap (a file from before
// it, or a cap raised since) are cut to the cap at their next append, the
// newest entries kept.
func TestAuditCapOnAnOlderFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := trainstest.NewClock(storagetest.T0)
	s, err := boltstore.Open(dir, clock)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	entry := func(i int, train trains.TrainID) trains.AuditEntry {
		return trains.AuditEntry{At: storagetest.T0, User: "U1", Action: "action " + strconv.Itoa(i), Train: train, Result: "ok"}
	}
	for i := range 30 {
		if err := s.Audit(t.Context(), entry(i, "dev-2026-12-01")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = boltstore.Open(dir, clock, boltstore.WithAuditMax(10), boltstore.WithTrainAuditMax(5))
	if err != nil {
		t.Fatalf("reopen with a cap: %v", err)
	}
	defer s.Close()
	if err := s.Audit(t.Context(), entry(30, "dev-2026-12-01")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		train trains.TrainID
		want  int
	}{{"", 10}, {"dev-2026-12-01", 5}} {
		got, err := s.AuditLog(t.Context(), tc.train, 0)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range got {
			actions = append(actions, e.Action)
		}
		var want []string
		for i := 30; i > 30-tc.want; i-- {
			want = append(want, "action "+strconv.Itoa(i))
		}
		if d := cmp.Diff(want, actions); d != "" {
			t.Errorf("log of %q after one capped append (-want +got):\n%s", tc.train, d)
		}
	}
	// Later appends keep it there, from the count kept with the bucket.
	for i := 31; i < 40; i++ {
		if err := s.Audit(t.Context(), entry(i, "dev-2026-12-01")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AuditLog(t.Context(), "dev-2026-12-01", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0].Action != "action 39" {
		t.Errorf("train log after more appends: %+v; want 5 entries, the newest action 39", got)
	}
}
