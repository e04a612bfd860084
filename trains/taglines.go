package trains

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// This file holds how trainbot reads a repository's train tags without
// listing every tag: a plan needs only the tags of the lines from the
// newest staging tag's line up (SPEC §1: the next dev tag is on the
// highest line, a staging train promotes a dev tag newer than the last
// staging tag, a hotfix goes on the staging line). The store keeps which
// lines hold train tags; each command lists those lines' tags alone (one
// request a line, a 304 when the line has not changed), however many
// tags the repository has. The full listing is read when the store
// knows no lines yet or they hold no staging or dev tag (a repository new
// to trains), by reports that need older tags, and by the scheduler once
// every TagRelist, which finds lines started by hand.

// TagLines is what a store knows of the lines that hold train tags.
type TagLines struct {
	// Lines are the lines known to hold train tags, in no order.
	Lines []Line
	// Listed is when every tag of the repository was last listed; zero
	// when never (Lines then are only those trainbot learned otherwise).
	Listed time.Time
}

// TagLineIndex keeps the lines that hold train tags, so that a command
// lists only the tags of the lines it needs. A Store may implement it;
// without it, every command lists every tag.
type TagLineIndex interface {
	// TagLines returns the lines kept. ErrUnavailable: the store cannot
	// be reached.
	TagLines(ctx context.Context) (TagLines, error)
	// AddTagLines adds lines to those kept (lines are never removed: a
	// line whose tags were deleted costs one empty listing). A non-zero
	// listed is when a full listing found them: it is kept when later
	// than the one kept.
	AddTagLines(ctx context.Context, lines []Line, listed time.Time) error
}

// TagRelist is how often the scheduler lists every tag of the repository
// to find lines that trainbot did not make (a line tagged by hand).
const TagRelist = 24 * time.Hour

// planTags lists the train tags plans need: every tag of each line from
// the highest known line (or the started line, when higher) down to the
// first line holding a staging tag, and on to the first holding a dev tag
// when none above does (the staging tag's line normally holds the dev tag
// it promoted). Lines below hold no tag a plan of any track can use: the
// newest dev and staging tags are found, older dev tags cannot be promoted,
// and hotfixes go on the newest staging tag's line. Without a line index,
// before its first full listing, or when the lines known hold no staging
// tag or no dev tag, it lists every tag.
func (s *Service) planTags(ctx context.Context) ([]TrainTag, error) {
	idx, ok := s.store.(TagLineIndex)
	if !ok {
		return s.allTags(ctx)
	}
	known, err := idx.TagLines(ctx)
	if err != nil {
		return nil, fmt.Errorf("read which lines hold train tags: %w", err)
	}
	if known.Listed.IsZero() {
		return s.allTags(ctx)
	}
	started, err := s.store.StartedLine(ctx)
	if err != nil {
		return nil, err
	}
	lines := known.Lines
	if started != (Line{}) {
		lines = append(slices.Clone(lines), started)
	}
	slices.SortFunc(lines, func(a, b Line) int { return b.Compare(a) })
	lines = slices.Compact(lines)
	var out []TrainTag
	staging, dev := false, false
	for _, l := range lines {
		rts, err := s.repo.LineTags(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("list the tags of line %s: %w", l, err)
		}
		for _, t := range TrainTags(rts) {
			if t.Line != l {
				continue // the listing may hold other tags
			}
			out = append(out, t)
			staging = staging || t.Track == Staging
			dev = dev || t.Track == Dev
		}
		if staging && dev {
			return out, nil
		}
	}
	// The lines known hold no staging tag or no dev tag: trainbot is new
	// to the repository, or its first train tags were made by hand since
	// the last listing. Every tag, then, until both exist.
	return s.allTags(ctx)
}

// allTags lists every train tag of the repository and, with a line
// index, keeps the lines they are on.
func (s *Service) allTags(ctx context.Context) ([]TrainTag, error) {
	listed := s.clock.Now()
	rts, err := s.repo.Tags(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the repository's tags: %w", err)
	}
	tags := TrainTags(rts)
	if idx, ok := s.store.(TagLineIndex); ok {
		if err := idx.AddTagLines(ctx, tagLines(tags), listed); err != nil {
			s.log.Warn("cannot keep the lines of the train tags; the next command lists every tag again", "err", err)
		}
	}
	return tags, nil
}

// tagLines returns the distinct lines of tags.
func tagLines(tags []TrainTag) []Line {
	var out []Line
	for _, t := range tags {
		if !slices.Contains(out, t.Line) {
			out = append(out, t.Line)
		}
	}
	return out
}

// relistTags lists every tag when the last full listing is older than
// TagRelist, so that lines trainbot did not make are found within a day.
// The scheduler's leader calls it, off any train's path.
func (s *Service) relistTags(ctx context.Context, now time.Time) error {
	idx, ok := s.store.(TagLineIndex)
	if !ok {
		return nil
	}
	known, err := idx.TagLines(ctx)
	if err != nil {
		return err
	}
	if !known.Listed.IsZero() && now.Sub(known.Listed) < TagRelist {
		return nil
	}
	_, err = s.allTags(ctx)
	return err
}
