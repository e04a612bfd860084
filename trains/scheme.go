package trains

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// This file holds the tag scheme of SPEC §1: which line and number the next
// tag of each track takes, which dev tag a staging train promotes, and the
// hotfix roll-forward check.

// ErrNoStagingTag is returned when a hotfix is asked for before any staging
// tag exists: a hotfix takes the line of the newest staging tag.
var ErrNoStagingTag = errors.New("there is no staging tag yet, so a hotfix has no line to go on: cut a staging train first")

// CurrentLine is the line of the next dev tag: the highest line among the
// train tags (initial when there are none), raised to started when a
// releaser started a higher line with `/train line` (zero when none).
func CurrentLine(tags []TrainTag, initial, started Line) Line {
	line := initial
	if len(tags) > 0 {
		line = tags[0].Line
		for _, t := range tags[1:] {
			if line.Less(t.Line) {
				line = t.Line
			}
		}
	}
	if line.Less(started) {
		line = started
	}
	return line
}

// ValidateNewLine checks that proposed may start a new line: it must be
// greater than the current one.
func ValidateNewLine(current, proposed Line) error {
	if proposed.Compare(current) <= 0 {
		return fmt.Errorf("line %s is not above the current line %s: a new line must be greater", proposed, current)
	}
	return nil
}

// highestN returns the highest N among tags of track on line, and whether there is one.
func highestN(tags []TrainTag, line Line, track Track) (uint64, bool) {
	var n uint64
	found := false
	for _, t := range tags {
		if t.Track == track && t.Line == line && (!found || t.N > n) {
			n, found = t.N, true
		}
	}
	return n, found
}

// nextOn is the next tag of track on line: the highest N there plus one.
func nextOn(tags []TrainTag, line Line, track Track) Tag {
	n, _ := highestN(tags, line, track)
	return Tag{Line: line, Track: track, N: n + 1}
}

// NextDevTag is the tag of the next dev train on line (see CurrentLine).
func NextDevTag(tags []TrainTag, line Line) Tag { return nextOn(tags, line, Dev) }

// NextStagingTag is the tag of a staging train promoting the dev tag
// promoted: it keeps that tag's line.
func NextStagingTag(tags []TrainTag, promoted Tag) (Tag, error) {
	if promoted.Track != Dev {
		return Tag{}, fmt.Errorf("staging promotes a dev tag, not %s", promoted)
	}
	return nextOn(tags, promoted.Line, Staging), nil
}

// NextHotfixTag is the tag of the next hotfix: on the line of the newest
// staging tag. It returns ErrNoStagingTag when there is none.
func NextHotfixTag(tags []TrainTag) (Tag, error) {
	s, ok := Newest(tags, Staging)
	if !ok {
		return Tag{}, ErrNoStagingTag
	}
	return nextOn(tags, s.Line, Hotfix), nil
}

// Newest returns the greatest tag of track, by semver order.
func Newest(tags []TrainTag, track Track) (TrainTag, bool) {
	var best TrainTag
	found := false
	for _, t := range tags {
		if t.Track == track && (!found || t.Compare(best.Tag) > 0) {
			best, found = t, true
		}
	}
	return best, found
}

// StagingCandidate chooses the dev tag a staging train at now promotes: the
// newest dev tag that has soaked at least soak (now - Date >= soak) and is
// newer than the dev tag the last staging tag promoted. A dev tag with an
// unknown (zero) Date has not soaked. ok is false when there is nothing to
// ship.
func StagingCandidate(tags []TrainTag, now time.Time, soak time.Duration) (c TrainTag, ok bool) {
	last, hasStaging := Newest(tags, Staging)
	var promoted TrainTag
	hasPromoted := false
	if hasStaging {
		// the dev tag the last staging tag promoted shares its commit.
		for _, t := range tags {
			if t.Track == Dev && t.Commit == last.Commit && (!hasPromoted || t.Compare(promoted.Tag) > 0) {
				promoted, hasPromoted = t, true
			}
		}
	}
	for _, t := range tags {
		if t.Track != Dev || t.Date.IsZero() || now.Sub(t.Date) < soak {
			continue
		}
		if hasStaging {
			if t.Commit == last.Commit {
				continue // already on staging
			}
			if hasPromoted && t.Compare(promoted.Tag) <= 0 {
				continue
			}
			if !hasPromoted && !t.Date.After(last.Date) {
				continue
			}
		}
		if !ok || t.Compare(c.Tag) > 0 {
			c, ok = t, true
		}
	}
	return c, ok
}

// Ancestry answers whether one commit is contained in another's history.
// The Repo port provides it.
type Ancestry interface {
	// Contains reports whether ancestor is reachable from descendant
	// (a commit contains itself).
	Contains(ctx context.Context, ancestor, descendant string) (bool, error)
}

// MissingHotfixes returns the hotfix tags made since the last staging tag
// whose commits commit does not contain, oldest first (SPEC §1: a hotfix
// rolls forward into the next staging train). A hotfix with an unknown date
// is checked too.
func MissingHotfixes(ctx context.Context, tags []TrainTag, commit string, a Ancestry) ([]TrainTag, error) {
	last, hasStaging := Newest(tags, Staging)
	var missing []TrainTag
	for _, t := range tags {
		if t.Track != Hotfix {
			continue
		}
		if hasStaging && !t.Date.IsZero() && !t.Date.After(last.Date) {
			continue
		}
		in, err := a.Contains(ctx, t.Commit, commit)
		if err != nil {
			return nil, fmt.Errorf("check whether %s is in %s: %w", t.Tag, ShortSHA(commit), err)
		}
		if !in {
			missing = append(missing, t)
		}
	}
	slices.SortFunc(missing, func(x, y TrainTag) int { return x.Compare(y.Tag) })
	return missing, nil
}

// ShortSHA abbreviates a commit hash to its first 7 characters for
// messages; a shorter string is returned as it is.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
