package contract

import (
	"bytes"
	"net/http"
)

// Recorder is the http.ResponseWriter a test server answers through when
// its exchanges are checked: it passes the answer on and keeps its status
// and body for Exchange.
type Recorder struct {
	http.ResponseWriter
	// Status is the status written; 200 once a body is written without one.
	Status int
	// Body is the body written.
	Body bytes.Buffer
}

// WriteHeader records the first status and passes it on.
func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records and passes on b.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	r.Body.Write(b)
	return r.ResponseWriter.Write(b)
}
