package slackfake

import (
	"context"
	"sync"
)

// hold keeps the calls of one method waiting until it is released.
type hold struct {
	release chan struct{}
	once    sync.Once
}

func (h *hold) open() { h.once.Do(func() { close(h.release) }) }

// Hold makes every call of method that arrives from now on wait — after it
// is counted in Calls, before any fault or answer is chosen — until the
// returned release is called, the client gives up on the request, or the
// server closes. method is a Web API method ("usergroups.users.list") or
// "response_url".
//
// It lines up concurrent callers without sleeps: hold, start the callers,
// WaitHeld until the calls you expect have arrived, then release. release
// lets every held call go on and stops holding new ones; calling it again
// does nothing. A second Hold of a method replaces the first for the calls
// that arrive after it.
func (s *Server) Hold(method string) (release func()) {
	h := &hold{release: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		h.open()
	}
	s.holds[method] = h
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.holds[method] == h {
			delete(s.holds, method)
		}
		h.open()
	}
}

// WaitHeld blocks until at least n calls of method are held by Hold at
// once, or ctx ends, or the server closes.
func (s *Server) WaitHeld(ctx context.Context, method string, n int) error {
	return s.waitFor(ctx, func() bool { return s.held[method] >= n })
}

// Held returns how many calls of method Hold is keeping waiting now.
func (s *Server) Held(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[method]
}

// waitHold keeps a call of method waiting while a Hold is in force.
func (s *Server) waitHold(ctx context.Context, method string) {
	s.mu.Lock()
	h := s.holds[method]
	if h == nil {
		s.mu.Unlock()
		return
	}
	s.held[method]++
	s.notify()
	s.mu.Unlock()
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.held[method]--
	s.notify()
	s.mu.Unlock()
}

// releaseHolds lets every held call go on. The caller holds s.mu.
func (s *Server) releaseHolds() {
	for m, h := range s.holds {
		h.open()
		delete(s.holds, m)
	}
}
