// Command storehistory measures the embedded store after years of history
// beside thirty days (issue 10): the latency of every command's store reads
// and of a scheduler tick, their ratio, and the file's size with and
// without TRAINBOT_RETENTION.
//
// Each store is opened as trainbot opens it (storage.Open, with the
// default TRAINBOT_AUDIT_MAX) and filled through the port by
// storagetest.History.Fill, with a clock that moves with the writes, so
// retention trims as it would have. Timings interleave the stores and keep
// each read's fastest round, which shrugs off a busy machine.
//
// Run it from the repository root:
//
//	go run ./bench/storehistory [-rounds 7] [-dir /dev/shm]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/trainbot/trainbot/storage"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

const day = 24 * time.Hour

// world is one filled store.
type world struct {
	name  string
	h     storagetest.History
	keep  time.Duration // TRAINBOT_RETENTION; 0: off
	store trains.Store
	close io.Closer
	path  string
	fill  time.Duration
}

func main() {
	rounds := flag.Int("rounds", 7, "timing rounds; each read's fastest round is kept")
	dir := flag.String("dir", defaultDir(), "folder for the store files (tmpfs makes the fill's fsyncs cheap; reads are the same)")
	long := flag.Bool("long", false, "also fill ten years with the default retention, to show the size stops growing")
	flag.Parse()
	if err := run(*dir, *rounds, *long); err != nil {
		fmt.Fprintln(os.Stderr, "storehistory:", err)
		os.Exit(1)
	}
}

func defaultDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

func run(dir string, rounds int, long bool) error {
	ctx := context.Background()
	now := storagetest.T0
	const retention = 400 * day // TRAINBOT_RETENTION's default
	worlds := []*world{
		{name: "30 days", h: storagetest.Days(30), keep: retention},
		{name: "5 years, retention 400d", h: storagetest.FiveYears, keep: retention},
		{name: "5 years, retention off", h: storagetest.FiveYears},
	}
	if long {
		ten := storagetest.FiveYears
		ten.Span, ten.Trains, ten.Deploys, ten.Audit, ten.Window = 2*ten.Span, 2*ten.Trains, 2*ten.Deploys, 2*ten.Audit, 2*ten.Window
		worlds = append(worlds, &world{name: "10 years, retention 400d", h: ten, keep: retention})
	}
	root, err := os.MkdirTemp(dir, "storehistory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, w := range worlds {
		clock := trainstest.NewClock(now.Add(-w.h.Span))
		folder := filepath.Join(root, fmt.Sprint(i))
		s, c, _, err := storage.Open(ctx, storage.Config{DataDir: folder, Retention: w.keep}, clock, quiet)
		if err != nil {
			return err
		}
		defer c.Close()
		w.store, w.close, w.path = s, c, filepath.Join(folder, boltstore.FileName)
		start := time.Now()
		if err := w.h.Fill(ctx, s, clock.Set, now); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		w.fill = time.Since(start)
	}

	fmt.Printf("History written (trains / deploy records / audit entries / quiet windows), file size:\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "store\ttrains\tdeploys\taudit\twindows\tfile\tkept trains\tkept deploys\tfill\t")
	for _, w := range worlds {
		fi, err := os.Stat(w.path)
		if err != nil {
			return err
		}
		ts, err := w.store.ListTrains(ctx, trains.TrainQuery{})
		if err != nil {
			return err
		}
		ds, err := w.store.Deploys(ctx, time.Time{}, now.Add(day))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f MB\t%d\t%d\t%s\t\n", w.name, w.h.Trains, w.h.Deploys, w.h.Audit, w.h.Window,
			float64(fi.Size())/1e6, len(ts), len(ds), w.fill.Round(100*time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Printf("\nStore reads per command at the end of each history: fastest of %d rounds, per call; ratio to 30 days:\n\n", rounds)
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprint(tw, "reads\t")
	for _, w := range worlds {
		fmt.Fprintf(tw, "%s\t", w.name)
	}
	for _, w := range worlds[1:] {
		fmt.Fprintf(tw, "ratio %s\t", w.name)
	}
	fmt.Fprintln(tw)
	worst := 0.0
	for _, r := range storagetest.CommandReads {
		best := make([]time.Duration, len(worlds))
		for range rounds {
			for i, w := range worlds {
				d, err := timeRead(ctx, r, w.store, now)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", r.Name, w.name, err)
				}
				if best[i] == 0 || d < best[i] {
					best[i] = d
				}
			}
		}
		fmt.Fprintf(tw, "%s\t", r.Name)
		for _, d := range best {
			fmt.Fprintf(tw, "%.1f µs\t", float64(d)/1e3)
		}
		for _, d := range best[1:] {
			ratio := float64(d) / float64(best[0])
			worst = max(worst, ratio)
			fmt.Fprintf(tw, "%.2f×\t", ratio)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("\nworst ratio: %.2f× (issue 10 asks at most 1.5×)\n", worst)
	return nil
}

// timeRead runs r until 20 ms have passed and returns the time per call.
func timeRead(ctx context.Context, r storagetest.CommandRead, s trains.Store, now time.Time) (time.Duration, error) {
	start := time.Now()
	n := 0
	for time.Since(start) < 20*time.Millisecond {
		if err := r.Read(ctx, s, now); err != nil {
			return 0, err
		}
		n++
	}
	return time.Since(start) / time.Duration(n), nil
}
