// Package commands is the /train grammar: it parses what a user typed or
// clicked into a command, checks the user may run it (SPEC §6), runs it on
// the trains service and returns a transport-neutral Reply.
package commands

import (
	"context"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// Request is one /train command, typed or clicked.
type Request struct {
	// User is the Slack user id of who asked.
	User string
	// Text is what follows /train, as Slack sends it with escaping on
	// (&amp; &lt; &gt;, mentions as <@U123|name> or <@U123>).
	Text string
	// Channel is where it was asked.
	Channel string
	// Button is the id of the clicked button, empty for typed text.
	Button string
	// Received is when the transport took the request in (for Slack, when
	// the envelope arrived, before its ack and any wait for a worker): a
	// command's duration (Deps.Observe) is counted from it. Zero means
	// when Handle is called.
	Received time.Time
}

// Reply is what the person who asked sees (ephemeral in Slack).
type Reply struct {
	Message trains.Message
	// Refused is set when the command was refused (bad input, a missing
	// role, a paused calendar): nothing changed.
	Refused bool
}

// Handler runs requests. It never fails: every error becomes a reply that
// says what happened and what to do.
type Handler interface {
	Handle(ctx context.Context, r Request) Reply
}
