package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// writeAttempts is how many times a write whose outcome was unknown (a
// 5xx, a timeout) is tried, after checking it was not carried out.
const writeAttempts = 3

// GitHub's 422 message when a ref exists. go-github has no type for it, so
// the text is compared (as GitHub documents it).
const refExists = "Reference already exists"

// CreateTag makes tag name on commit: an annotated tag object naming the
// train (message, or "trainbot: <name>" when empty) and the ref
// refs/tags/<name> pointing at it, or only the ref with
// Config.Lightweight.
//
// It is safe to repeat. "Reference already exists" (422) reads the ref:
// on commit it is success, on another commit a *trains.TagConflictError
// naming both. A 5xx, a timeout or another 422 on the ref may still have
// made it (PROTOCOLS pitfall 9), so the ref is read before trying again
// or failing. A tag object left over by a failed try is harmless: nothing
// points at it.
//
// GitHub API docs: https://docs.github.com/rest/git/tags#create-a-tag-object
// and https://docs.github.com/rest/git/refs#create-a-reference
func (g *GitHub) CreateTag(ctx context.Context, name, commit, message string) error {
	op := fmt.Sprintf("create tag %s on %s", name, trains.ShortSHA(commit))
	if len(commit) != 40 {
		c, err := g.Commit(ctx, commit)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		commit = c.SHA
	}
	target := commit
	if !g.cfg.Lightweight {
		if message == "" {
			message = "trainbot: " + name
		}
		sha, err := g.createTagObject(ctx, op, name, commit, message)
		if err != nil {
			return err
		}
		target = sha
	}
	ref := "refs/tags/" + name
	var last error
	for attempt := range writeAttempts {
		if err := g.pauseBefore(ctx, attempt, op); err != nil {
			return err
		}
		cctx, cancel := g.call(ctx)
		_, _, err := g.c.Git.CreateRef(cctx, g.owner, g.name, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &target}})
		cancel()
		if err == nil {
			g.log.InfoContext(ctx, "tag created", slog.String("tag", name), slog.String("commit", commit))
			return nil
		}
		if ctx.Err() != nil {
			return g.explain(op, writeContents, err)
		}
		code := status(err)
		if code == http.StatusUnprocessableEntity && message422(err) == refExists {
			return g.existing(ctx, op, name, commit)
		}
		if code != http.StatusUnprocessableEntity && !ambiguous(err) {
			return g.explain(op, writeContents, err)
		}
		// A 5xx, a timeout or an unexpected 422: the ref may exist now.
		if checked := g.existing(ctx, op, name, commit); !errors.Is(checked, trains.ErrNotFound) {
			if checked == nil {
				g.log.WarnContext(ctx, "tag creation answered with an error but the tag was made", slog.String("tag", name), slog.Any("error", err))
			}
			return checked
		}
		if code == http.StatusUnprocessableEntity {
			return g.explain(op, writeContents, err)
		}
		last = err
		g.log.WarnContext(ctx, "tag creation failed and the tag does not exist; trying again", slog.String("tag", name), slog.Any("error", err))
	}
	return g.explain(op, writeContents, last)
}

// pauseBefore waits before write attempt n, backing off (not before the first).
func (g *GitHub) pauseBefore(ctx context.Context, attempt int, op string) error {
	if attempt == 0 {
		return nil
	}
	if err := g.o.sleeper(ctx, backoffBase<<attempt); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// message422 is GitHub's message of a 422, "" for other errors.
func message422(err error) string {
	if status(err) != http.StatusUnprocessableEntity {
		return ""
	}
	return message(err)
}

// createTagObject makes the annotated tag object and returns its sha. The
// tagger is left to GitHub (the token's user, now). A 5xx is tried again:
// a duplicate tag object is harmless.
//
// GitHub API docs: https://docs.github.com/rest/git/tags#create-a-tag-object
func (g *GitHub) createTagObject(ctx context.Context, op, name, commit, message string) (string, error) {
	var last error
	for attempt := range writeAttempts {
		if err := g.pauseBefore(ctx, attempt, op); err != nil {
			return "", err
		}
		typ := "commit"
		cctx, cancel := g.call(ctx)
		t, _, err := g.c.Git.CreateTag(cctx, g.owner, g.name, &github.Tag{
			Tag:     &name,
			Message: &message,
			Object:  &github.GitObject{SHA: &commit, Type: &typ},
		})
		cancel()
		if err == nil {
			g.remember(ctx, t.GetSHA(), commit, t.GetTagger().GetDate().Time)
			return t.GetSHA(), nil
		}
		if ctx.Err() != nil || !ambiguous(err) {
			return "", g.explain(op, writeContents, err)
		}
		last = err
	}
	return "", g.explain(op, writeContents, last)
}

// remember keeps the tag object trainbot just made, so that the next
// listing need not read it from GitHub: it is sha, on commit, made at date
// (as GitHub's answer gave it; nothing is kept without a date).
func (g *GitHub) remember(ctx context.Context, sha, commit string, date time.Time) {
	if sha == "" || date.IsZero() {
		return
	}
	date = date.UTC()
	g.mu.Lock()
	g.tags[sha] = peeled{commit: commit, date: date}
	g.mu.Unlock()
	if g.o.objects == nil {
		return
	}
	if err := g.o.objects.PutTagObjects(ctx, map[string]trains.TagObject{sha: {Commit: commit, Date: date}}); err != nil {
		g.log.WarnContext(ctx, "cannot keep the tag object made; it will be read from GitHub again after a restart", slog.Any("error", err))
	}
}

// existing reads tag name and says whether it is on commit: nil when it
// is, a *trains.TagConflictError when it is on another commit, an error
// wrapping trains.ErrNotFound when there is no such tag.
func (g *GitHub) existing(ctx context.Context, op, name, commit string) error {
	p, err := g.ref(ctx, "tags/"+name)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if p.commit != commit {
		return &trains.TagConflictError{Tag: name, Existing: p.commit, Want: commit}
	}
	return nil
}
