package trains

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Tag is a train tag: v<line>-<track>.<N>, e.g. v0.5.0-dev.3 (SPEC §1).
type Tag struct {
	Line  Line
	Track Track
	N     uint64
}

// ErrNotTrainTag is returned by ParseTag for a tag that is not a train tag;
// such tags (v1.2.3, sdk-v1.0.0, v0.5.0-rc.1) are ignored.
var ErrNotTrainTag = errors.New("not a train tag")

// ParseTag parses a train tag. Any tag that does not match
// v<semver core>-<dev|staging|hotfix>.<N> exactly returns ErrNotTrainTag.
func ParseTag(s string) (Tag, error) {
	rest, ok := strings.CutPrefix(s, "v")
	if !ok {
		return Tag{}, fmt.Errorf("%q: %w", s, ErrNotTrainTag)
	}
	v, err := semver.StrictNewVersion(rest)
	if err != nil || v.Metadata() != "" {
		return Tag{}, fmt.Errorf("%q: %w", s, ErrNotTrainTag)
	}
	track, num, ok := strings.Cut(v.Prerelease(), ".")
	if !ok {
		return Tag{}, fmt.Errorf("%q: %w", s, ErrNotTrainTag)
	}
	tr, err := ParseTrack(track)
	if err != nil {
		return Tag{}, fmt.Errorf("%q: %w", s, ErrNotTrainTag)
	}
	// strict semver has already refused leading zeros in numeric identifiers.
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return Tag{}, fmt.Errorf("%q: %w", s, ErrNotTrainTag)
	}
	return Tag{Line: Line{v.Major(), v.Minor(), v.Patch()}, Track: tr, N: n}, nil
}

// String formats the tag as v<line>-<track>.<N>.
func (t Tag) String() string { return fmt.Sprintf("v%s-%s.%d", t.Line, t.Track, t.N) }

// IsZero reports whether t is the zero Tag (no tag).
func (t Tag) IsZero() bool { return t == Tag{} }

// Compare orders tags as semver does: by line, then by prerelease, where the
// track names compare as text and N numerically (dev.10 > dev.9).
func (t Tag) Compare(o Tag) int {
	if c := t.Line.Compare(o.Line); c != 0 {
		return c
	}
	if c := strings.Compare(string(t.Track), string(o.Track)); c != 0 {
		return c
	}
	switch {
	case t.N < o.N:
		return -1
	case t.N > o.N:
		return 1
	}
	return 0
}

// RepoTag is a tag as the repository reports it.
type RepoTag struct {
	// Name is the tag name without refs/tags/.
	Name string
	// Commit is the commit the tag points at, peeled through tag objects.
	Commit string
	// Date is when the tag was made (an annotated tag's tagger date), or
	// zero when the repository does not know it (a lightweight tag).
	Date time.Time
}

// TrainTag is a parsed train tag with the commit and date the repository gave.
type TrainTag struct {
	Tag
	Commit string
	Date   time.Time
}

// TrainTags keeps the train tags among repository tags, ignoring all others.
func TrainTags(tags []RepoTag) []TrainTag {
	out := make([]TrainTag, 0, len(tags))
	for _, rt := range tags {
		t, err := ParseTag(rt.Name)
		if err != nil {
			continue
		}
		out = append(out, TrainTag{Tag: t, Commit: rt.Commit, Date: rt.Date})
	}
	return out
}
