package trains

import (
	"context"
	"time"
)

// TagObject is what an annotated tag object says: the commit it points
// at (peeled through nested tag objects) and its tagger date.
type TagObject struct {
	Commit string    `json:"commit"`
	Date   time.Time `json:"date,omitzero"`
}

// TagObjectCache keeps the tag objects read from the repository, by the
// tag object's sha. A tag object never changes, so what was read once
// holds across restarts, and a restarted trainbot need not read it from
// the repository again. A Store may implement it; the Repo works without.
type TagObjectCache interface {
	// TagObjects returns those of shas the cache holds, by sha (none is
	// not an error). ErrUnavailable: the cache cannot be reached.
	TagObjects(ctx context.Context, shas []string) (map[string]TagObject, error)
	// PutTagObjects keeps objs, by sha. ErrUnavailable: the cache cannot
	// be reached; nothing need have been kept.
	PutTagObjects(ctx context.Context, objs map[string]TagObject) error
}
