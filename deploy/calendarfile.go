package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// CalendarBranch is the branch of trainbot's own that carries the
// calendar file's pull request when the release branch is protected.
const CalendarBranch = "trainbot/release-calendar"

var _ trains.CalendarPublisher = (*GitHub)(nil)

var writePulls = access{write: true, perm: "pull-requests:write"}

// PublishCalendar writes the calendar file to the release branch through
// the Contents API: it reads the file there, writes nothing when it says
// the same (trains.SameCalendar), else commits it with f.Message, giving
// the blob sha it read. A stale sha (409 "… does not match …", or 422
// "sha wasn't supplied" when the file appeared meanwhile) is read again
// once and the write retried.
//
// When the release branch refuses the write because it is protected — 409
// without a sha mismatch (GitHub's "Repository rule violations found …
// Changes must be made through a pull request"), or 422 naming a protected
// branch — the file goes to CalendarBranch instead: created from the
// release branch, or reset onto it (force) when its file differs, then
// committed, and one pull request from it to the release branch is opened
// or, when one is open already, updated (title and body). A call that
// finds that branch already holding the same file writes nothing and only
// makes sure the pull request is open.
//
// GitHub API docs: https://docs.github.com/rest/repos/contents#get-repository-content,
// https://docs.github.com/rest/repos/contents#create-or-update-file-contents,
// https://docs.github.com/rest/git/refs#create-a-reference,
// https://docs.github.com/rest/git/refs#update-a-reference,
// https://docs.github.com/rest/pulls/pulls#list-pull-requests,
// https://docs.github.com/rest/pulls/pulls#create-a-pull-request and
// https://docs.github.com/rest/pulls/pulls#update-a-pull-request
func (g *GitHub) PublishCalendar(ctx context.Context, f trains.CalendarFile) (trains.CalendarPublished, error) {
	if err := CheckFilePath(f.Path); err != nil {
		return trains.CalendarPublished{}, err
	}
	base := g.cfg.Branch
	pub, err := g.writeFile(ctx, base, f)
	if err == nil || !protectedRefusal(err) {
		pub.Base = base
		return pub, err
	}
	g.log.InfoContext(ctx, "the release branch refuses trainbot's commit; proposing the calendar in a pull request",
		"branch", base, "head", CalendarBranch, "refusal", message(err))
	return g.proposeFile(ctx, base, f)
}

// CheckFilePath refuses a repository file path that is absolute, has an
// empty, "." or ".." part, or characters beyond letters, digits and
// "._-/": TRAINBOT_CALENDAR_PATH is checked with it at start-up.
func CheckFilePath(p string) error {
	bad := p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") ||
		strings.ContainsFunc(p, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/", r))
		})
	if bad {
		return fmt.Errorf("%q is not a file path in the repository: write it relative to the repository's root, with letters, digits, \".\", \"_\", \"-\" and \"/\" only, e.g. %s: %w",
			p, trains.CalendarPath, trains.ErrRefused)
	}
	return checkSegments("the file path", p)
}

// protectedRefusal reports whether a write was refused because the branch
// is protected: 409 without a sha mismatch, or 422 naming protection.
func protectedRefusal(err error) bool {
	msg := strings.ToLower(message(err))
	switch status(err) {
	case http.StatusConflict:
		return !staleSHA(err)
	case http.StatusUnprocessableEntity:
		return strings.Contains(msg, "protected") || strings.Contains(msg, "pull request") || strings.Contains(msg, "rule")
	}
	return false
}

// staleSHA reports whether a content write was refused for the blob sha it
// carried: another commit changed the file since it was read.
func staleSHA(err error) bool {
	msg := message(err)
	switch status(err) {
	case http.StatusConflict:
		return strings.Contains(msg, "does not match") || strings.Contains(msg, "but expected")
	case http.StatusUnprocessableEntity:
		return strings.Contains(msg, `"sha" wasn't supplied`)
	}
	return false
}

// readFile returns the blob sha and content of path on branch; sha is ""
// when there is no such file.
//
// GitHub API docs: https://docs.github.com/rest/repos/contents#get-repository-content
func (g *GitHub) readFile(ctx context.Context, branch, path string) (sha, content string, err error) {
	cctx, cancel := g.call(ctx)
	fc, _, _, err := g.c.Repositories.GetContents(cctx, g.owner, g.name, path, &github.RepositoryContentGetOptions{Ref: branch})
	cancel()
	if status(err) == http.StatusNotFound {
		return "", "", nil
	}
	if err != nil {
		return "", "", g.explain("read "+path+" on "+branch, readContents, err)
	}
	if fc == nil {
		return "", "", fmt.Errorf("could not read %s on %s in %s: it is a folder, not a file; set TRAINBOT_CALENDAR_PATH to a file's path: %w", path, branch, g.repo(), trains.ErrRefused)
	}
	text, err := fc.GetContent()
	if err != nil {
		return "", "", fmt.Errorf("could not decode %s on %s: %w", path, branch, err)
	}
	return fc.GetSHA(), text, nil
}

// writeFile commits f on branch unless the file there says the same,
// reading the file again once when the sha it gave was stale.
//
// GitHub API docs: https://docs.github.com/rest/repos/contents#create-or-update-file-contents
func (g *GitHub) writeFile(ctx context.Context, branch string, f trains.CalendarFile) (trains.CalendarPublished, error) {
	for attempt := 0; ; attempt++ {
		sha, content, err := g.readFile(ctx, branch, f.Path)
		if err != nil {
			return trains.CalendarPublished{}, err
		}
		if sha != "" && trains.SameCalendar(content, f.Content) {
			return trains.CalendarPublished{Outcome: trains.CalendarUnchanged, Branch: branch}, nil
		}
		opts := &github.RepositoryContentFileOptions{Message: github.String(f.Message), Content: []byte(f.Content), Branch: github.String(branch)}
		if sha != "" {
			opts.SHA = github.String(sha)
		}
		cctx, cancel := g.call(ctx)
		res, _, err := g.c.Repositories.UpdateFile(cctx, g.owner, g.name, escapePath(f.Path), opts)
		cancel()
		if err == nil {
			return trains.CalendarPublished{Outcome: trains.CalendarCommitted, Branch: branch, URL: res.Commit.GetHTMLURL()}, nil
		}
		if attempt == 0 && staleSHA(err) {
			g.log.InfoContext(ctx, "the file changed since it was read; reading it again", "path", f.Path, "branch", branch)
			continue
		}
		return trains.CalendarPublished{}, g.explain("commit "+f.Path+" to "+branch, writeContents, err)
	}
}

// proposeFile puts f on CalendarBranch and opens or updates the one pull
// request from it to base.
func (g *GitHub) proposeFile(ctx context.Context, base string, f trains.CalendarFile) (trains.CalendarPublished, error) {
	head := CalendarBranch
	pub := trains.CalendarPublished{Outcome: trains.CalendarProposed, Branch: head, Base: base}
	headRef, err := g.ref(ctx, "heads/"+head)
	exists := err == nil
	if err != nil && !errors.Is(err, trains.ErrNotFound) {
		return pub, err
	}
	same := false
	if exists {
		sha, content, err := g.readFile(ctx, head, f.Path)
		if err != nil {
			return pub, err
		}
		same = sha != "" && trains.SameCalendar(content, f.Content)
	}
	changed := false
	if !same {
		baseRef, err := g.ref(ctx, "heads/"+base)
		if err != nil {
			return pub, err
		}
		if err := g.setBranch(ctx, head, baseRef.commit, exists && headRef.commit != baseRef.commit, exists); err != nil {
			return pub, err
		}
		if _, err := g.writeFile(ctx, head, f); err != nil {
			return pub, err
		}
		changed = true
	}
	return g.openPull(ctx, pub, f, changed)
}

// setBranch points branch at sha: creates it, or (move) moves it by force.
func (g *GitHub) setBranch(ctx context.Context, branch, sha string, move, exists bool) error {
	ref := "refs/heads/" + branch
	cctx, cancel := g.call(ctx)
	defer cancel()
	if !exists {
		_, _, err := g.c.Git.CreateRef(cctx, g.owner, g.name, &github.Reference{Ref: github.String(ref), Object: &github.GitObject{SHA: github.String(sha)}})
		if err == nil || message(err) != "Reference already exists" {
			return g.explain("create the branch "+branch, writeContents, err)
		}
		move = true // made meanwhile: move it
	}
	if !move {
		return nil
	}
	_, _, err := g.c.Git.UpdateRef(cctx, g.owner, g.name, &github.Reference{Ref: github.String(ref), Object: &github.GitObject{SHA: github.String(sha)}}, true)
	return g.explain("reset the branch "+branch+" onto the release branch", writeContents, err)
}

// openPull finds the open pull request from pub.Branch to pub.Base and
// updates it when its file changed, or opens one.
//
// GitHub API docs: https://docs.github.com/rest/pulls/pulls#list-pull-requests
func (g *GitHub) openPull(ctx context.Context, pub trains.CalendarPublished, f trains.CalendarFile, changed bool) (trains.CalendarPublished, error) {
	cctx, cancel := g.call(ctx)
	open, _, err := g.c.PullRequests.List(cctx, g.owner, g.name, &github.PullRequestListOptions{
		State: "open", Head: g.cfg.Owner + ":" + pub.Branch, Base: pub.Base, ListOptions: github.ListOptions{PerPage: 10}})
	cancel()
	if err != nil {
		return pub, g.explain("list the pull requests from "+pub.Branch, access{perm: "pull-requests:read"}, err)
	}
	if len(open) > 0 {
		pr := open[0]
		pub.PR, pub.URL, pub.PRUpdated = pr.GetNumber(), pr.GetHTMLURL(), true
		if !changed {
			return pub, nil
		}
		cctx, cancel := g.call(ctx)
		_, _, err := g.c.PullRequests.Edit(cctx, g.owner, g.name, pr.GetNumber(), &github.PullRequest{Title: github.String(f.Title), Body: github.String(f.Body)})
		cancel()
		if err != nil {
			return pub, g.explain(fmt.Sprintf("update pull request #%d", pr.GetNumber()), writePulls, err)
		}
		return pub, nil
	}
	cctx, cancel = g.call(ctx)
	pr, _, err := g.c.PullRequests.Create(cctx, g.owner, g.name, &github.NewPullRequest{
		Title: github.String(f.Title), Head: github.String(pub.Branch), Base: github.String(pub.Base), Body: github.String(f.Body)})
	cancel()
	if err != nil {
		return pub, g.explain("open a pull request from "+pub.Branch+" to "+pub.Base, writePulls, err)
	}
	pub.PR, pub.URL = pr.GetNumber(), pr.GetHTMLURL()
	return pub, nil
}
