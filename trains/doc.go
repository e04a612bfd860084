// Package trains is trainbot's domain: release tracks and their slots, the
// train tag scheme, quiet windows, the on-call rotation, a train's life, the
// calendar and the statistics of SPEC §1–5.
//
// It does no I/O. Time comes from a Clock, state from a Store, tags and
// workflow runs from a Repo: the ports this package defines and the adapters
// in storage/ and deploy/ implement.
package trains
