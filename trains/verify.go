package trains

// Verification says whether a deployed train's tag was seen live: reported
// by the services' build_info gauge through Prometheus (RFC 0001, issue 13).
// A successful deploy run is not a live release; Verification is what tells
// the two apart.
type Verification string

// The verifications a train goes through after its deploy run succeeds.
const (
	// NotVerified: live verification is off, or the train is not deployed.
	NotVerified Verification = ""
	// Verifying: the deploy run succeeded; trainbot is waiting for the
	// services to report the tag.
	Verifying Verification = "verifying"
	// Verified: instances report the train's tag.
	Verified Verification = "verified"
	// Unverified: the deploy run succeeded but no instance reported the tag
	// before the verification timeout.
	Unverified Verification = "unverified"
	// Superseded: a newer deploy to the same environment went out before
	// any instance reported the tag, so none ever will: not a failure of
	// this train's, and not counted as unverified (Train.ReplacedBy names
	// the newer tag).
	Superseded Verification = "superseded"
)
