package trains

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Line is the X.Y.Z core of a train tag: v0.5.0-dev.3 is on line 0.5.0.
type Line struct {
	Major, Minor, Patch uint64
}

// ParseLine parses "X.Y.Z" (a leading "v" is accepted) into a Line.
func ParseLine(s string) (Line, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		return Line{}, fmt.Errorf("%q is not a release line: write it as X.Y.Z, e.g. 0.6.0", s)
	}
	return Line{v.Major(), v.Minor(), v.Patch()}, nil
}

// String formats the line as X.Y.Z.
func (l Line) String() string { return fmt.Sprintf("%d.%d.%d", l.Major, l.Minor, l.Patch) }

// Compare returns -1, 0 or +1 as l is lower than, equal to or higher than o.
func (l Line) Compare(o Line) int {
	for _, d := range [3][2]uint64{{l.Major, o.Major}, {l.Minor, o.Minor}, {l.Patch, o.Patch}} {
		switch {
		case d[0] < d[1]:
			return -1
		case d[0] > d[1]:
			return 1
		}
	}
	return 0
}

// Less reports whether l comes before o.
func (l Line) Less(o Line) bool { return l.Compare(o) < 0 }
