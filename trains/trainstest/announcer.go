package trainstest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/trainbot/trainbot/trains"
)

// Post is one message an Announcer was given.
type Post struct {
	Ref trains.MessageRef
	// Parent is the thread it was posted in; empty for a top message.
	Parent  trains.MessageRef
	Message trains.Message
	// Edits are the later versions of the message, oldest first.
	Edits []trains.Message
}

// Text is the post's latest version as plain text.
func (p Post) Text() string {
	if len(p.Edits) > 0 {
		return p.Edits[len(p.Edits)-1].Plain()
	}
	return p.Message.Plain()
}

// Announcer is an in-memory trains.Announcer that records what it is
// given. It is safe for concurrent use.
type Announcer struct {
	mu    sync.Mutex
	posts []*Post
}

var _ trains.Announcer = (*Announcer)(nil)

func (a *Announcer) add(parent trains.MessageRef, m trains.Message) (trains.MessageRef, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ref := trains.MessageRef{Channel: "C1", TS: fmt.Sprintf("1700000000.%06d", len(a.posts)+1)}
	a.posts = append(a.posts, &Post{Ref: ref, Parent: parent, Message: m})
	return ref, nil
}

// Post records a top message.
func (a *Announcer) Post(_ context.Context, m trains.Message) (trains.MessageRef, error) {
	return a.add(trains.MessageRef{}, m)
}

// Reply records a message in parent's thread.
func (a *Announcer) Reply(_ context.Context, parent trains.MessageRef, m trains.Message) (trains.MessageRef, error) {
	return a.add(parent, m)
}

// Edit records a new version of the message at ref.
func (a *Announcer) Edit(_ context.Context, ref trains.MessageRef, m trains.Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.posts {
		if p.Ref == ref {
			p.Edits = append(p.Edits, m)
			return nil
		}
	}
	return fmt.Errorf("edit %s: message_not_found", ref.TS)
}

// Posts returns a copy of every post, in order.
func (a *Announcer) Posts() []Post {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Post, len(a.posts))
	for i, p := range a.posts {
		out[i] = *p
		out[i].Edits = append([]trains.Message(nil), p.Edits...)
	}
	return out
}

// Top returns the top messages (not in threads).
func (a *Announcer) Top() []Post {
	var out []Post
	for _, p := range a.Posts() {
		if p.Parent.TS == "" {
			out = append(out, p)
		}
	}
	return out
}

// Thread returns the messages posted under parent.
func (a *Announcer) Thread(parent trains.MessageRef) []Post {
	var out []Post
	for _, p := range a.Posts() {
		if p.Parent == parent {
			out = append(out, p)
		}
	}
	return out
}

// Find returns the first post whose latest text contains s.
func (a *Announcer) Find(s string) (Post, bool) {
	for _, p := range a.Posts() {
		if strings.Contains(p.Text(), s) {
			return p, true
		}
	}
	return Post{}, false
}
