//go:build !linux

package redistest

import "os/exec"

// dieWithParent does nothing where the OS has no parent-death signal: a
// shared server may outlive the test binary there.
func dieWithParent(*exec.Cmd) {}
