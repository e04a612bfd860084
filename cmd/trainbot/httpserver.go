package main

import (
	"context"
	"net"
	"net/http"
	"time"
)

// httpTimeouts bound each connection to trainbot's HTTP endpoints, so that
// a client that sends its request slowly, reads the answer slowly or holds
// an idle connection cannot keep a connection (and its goroutine) for ever.
type httpTimeouts struct {
	// ReadHeader bounds reading a request's headers, from its first byte
	// (http.Server.ReadHeaderTimeout): a client that trickles them in is
	// cut off when it runs out.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included.
	Read time.Duration
	// Write bounds answering a request: from the end of its headers to the
	// last byte of the response.
	Write time.Duration
	// Idle bounds how long a kept-alive connection waits for its next request.
	Idle time.Duration
}

// defaultHTTPTimeouts suit what trainbot serves: small GETs (/healthz,
// /readyz with its 1 s store ping, /metrics, the calendar page and feed
// read from the store with 2 s bounds) that answer in well under a second.
// Write stays above Prometheus's default 10 s scrape timeout; Idle is
// longer than a usual 15–30 s scrape interval, so a scraper keeps its
// connection.
var defaultHTTPTimeouts = httpTimeouts{
	ReadHeader: 5 * time.Second,
	Read:       10 * time.Second,
	Write:      15 * time.Second,
	Idle:       60 * time.Second,
}

// newHTTPServer returns the server of trainbot's HTTP endpoints: h, with
// base as every request's parent context, and the timeouts to.
func newHTTPServer(base context.Context, h http.Handler, to httpTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: to.ReadHeader,
		ReadTimeout:       to.Read,
		WriteTimeout:      to.Write,
		IdleTimeout:       to.Idle,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}
