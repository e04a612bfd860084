package githubfake

import (
	"context"
	"strings"
)

// WaitRequests blocks until match accepts the requests answered so far (in
// order), and returns them; or until ctx ends. match runs without the
// fake's lock, so it may call the fake. Tests use it to wait for what the
// code under test does in the background (a scheduler's polls) without
// sleeping.
func (f *Fake) WaitRequests(ctx context.Context, match func([]Request) bool) ([]Request, error) {
	for {
		f.mu.Lock()
		reqs := append([]Request(nil), f.requests...)
		ch := f.changed
		f.mu.Unlock()
		if match(reqs) {
			return reqs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		}
	}
}

// CountIn returns how many of reqs had method (any when "") and a route
// starting with routePrefix: Count over a snapshot WaitRequests returned.
func CountIn(reqs []Request, method, routePrefix string) int {
	n := 0
	for _, r := range reqs {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Route, routePrefix) {
			n++
		}
	}
	return n
}
