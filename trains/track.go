package trains

import "fmt"

// Track is one of the three release tracks of RFC 0001.
type Track string

// The release tracks.
const (
	Dev     Track = "dev"
	Staging Track = "staging"
	Hotfix  Track = "hotfix"
)

// Tracks lists every track, in the order they are shown to users.
var Tracks = []Track{Dev, Staging, Hotfix}

// ParseTrack returns the track named s, or an error naming the tracks that exist.
func ParseTrack(s string) (Track, error) {
	switch t := Track(s); t {
	case Dev, Staging, Hotfix:
		return t, nil
	}
	return "", fmt.Errorf("%q is not a track: use dev, staging or hotfix", s)
}

// Title names a train of the track in a heading: "Dev train", "Staging
// train", "Hotfix".
func (t Track) Title() string {
	switch t {
	case Dev:
		return "Dev train"
	case Staging:
		return "Staging train"
	case Hotfix:
		return "Hotfix"
	}
	return string(t) + " train"
}

// Scheduled reports whether the track runs on a calendar (dev and staging)
// rather than on demand (hotfix).
func (t Track) Scheduled() bool { return t == Dev || t == Staging }

// Environment is the deploy workflow's `environment` input for the track
// (SPEC §1): hotfixes deploy to staging.
func (t Track) Environment() string {
	if t == Dev {
		return "dev"
	}
	return "staging"
}

// WorkflowInputs are the inputs the deploy workflow is dispatched with for a
// train of this track (SPEC §1).
func (t Track) WorkflowInputs() map[string]string {
	return map[string]string{"environment": t.Environment(), "release_type": string(t)}
}

// LockName is the name of the lease that a train of the track holds while
// it is cut and runs: one train of a track at a time ("track:dev").
func (t Track) LockName() string { return "track:" + string(t) }
