package trains

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// TrainID names a train: <track>-<YYYY-MM-DD> for the first train of a track
// on a UTC day (dev-2026-12-01), with -<n> for the n-th one that day when
// there are more (hotfix-2026-12-02-2).
type TrainID string

// NewTrainID makes the id of the n-th (from 1) train of track on at's UTC day.
func NewTrainID(track Track, at time.Time, n int) TrainID {
	id := fmt.Sprintf("%s-%s", track, at.UTC().Format(time.DateOnly))
	if n > 1 {
		id += "-" + strconv.Itoa(n)
	}
	return TrainID(id)
}

// NewRollbackID makes the id of the n-th (from 1) rollback on at's UTC
// day: rollback-2026-12-02, rollback-2026-12-02-2. A rollback is a train of
// the track it rolls back, with ids of its own.
func NewRollbackID(at time.Time, n int) TrainID {
	return NewTrainID(rollbackIDs, at, n)
}

// rollbackIDs is the first word of a rollback's id; it is not a track.
const rollbackIDs Track = "rollback"

var trainIDRe = regexp.MustCompile(`^(dev|staging|hotfix|rollback)-(\d{4}-\d{2}-\d{2})(?:-([1-9]\d{0,5}))?$`)

// ParseTrainID checks s is a train id and returns its track and UTC day.
// A rollback's id (rollback-2026-12-02) has no track: it returns "".
func ParseTrainID(s string) (TrainID, Track, time.Time, error) {
	m := trainIDRe.FindStringSubmatch(s)
	if m == nil {
		return "", "", time.Time{}, fmt.Errorf("%q is not a train id: write it as <track>-<YYYY-MM-DD>, e.g. dev-2026-12-01 (or rollback-<YYYY-MM-DD>)", s)
	}
	d, err := time.Parse(time.DateOnly, m[2])
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("%q is not a train id: %s is not a date", s, m[2])
	}
	if m[3] == "1" {
		return "", "", time.Time{}, fmt.Errorf("%q is not a train id: the first train of a day has no -1", s)
	}
	track := Track(m[1])
	if track == rollbackIDs {
		track = ""
	}
	return TrainID(s), track, d, nil
}
