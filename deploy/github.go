package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// Config says which repository and workflows a GitHub Repo works on, and
// how patiently.
type Config struct {
	// Owner and Repo name the released repository (TRAINBOT_REPO).
	Owner, Repo string
	// Branch is the release branch (default main).
	Branch string
	// DeployWorkflow is the deploy workflow's file name (default
	// deploy-simple.yaml).
	DeployWorkflow string
	// PublishWorkflow is the workflow whose run on a new tag must succeed
	// before the deploy. Empty: do not wait (WaitPublish returns at once).
	PublishWorkflow string
	// Lightweight makes CreateTag create a bare ref instead of an annotated
	// tag. Annotated tags (the default) record when the train was cut,
	// which the staging soak is measured from; a lightweight tag's date is
	// its commit's.
	Lightweight bool

	// PollMin and PollMax bound the wait between two polls of a run: it
	// starts at PollMin and doubles up to PollMax (default 5s and 30s).
	PollMin, PollMax time.Duration
	// CallTimeout is the deadline of one API call, retries and their
	// waits included (default 3m: a secondary rate limit asks for a
	// minute or more).
	CallTimeout time.Duration
	// RunAppear is how long a workflow run may take to appear after a tag
	// push or a dispatch (default 3m).
	RunAppear time.Duration
	// PublishTimeout bounds the whole wait for the publish run (default 1h).
	PublishTimeout time.Duration
	// RunTimeout bounds WaitRun (default 3h).
	RunTimeout time.Duration
	// ClockSkew widens the "created at or after" window when looking for
	// a dispatched run, for a difference between our clock and GitHub's
	// (default 10s).
	ClockSkew time.Duration
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Branch == "" {
		c.Branch = "main"
	}
	if c.DeployWorkflow == "" {
		c.DeployWorkflow = "deploy-simple.yaml"
	}
	set(&c.PollMin, 5*time.Second)
	set(&c.PollMax, 30*time.Second)
	set(&c.CallTimeout, 3*time.Minute)
	set(&c.RunAppear, 3*time.Minute)
	set(&c.PublishTimeout, time.Hour)
	set(&c.RunTimeout, 3*time.Hour)
	if c.ClockSkew < 0 {
		c.ClockSkew = 0
	} else if c.ClockSkew == 0 {
		c.ClockSkew = 10 * time.Second
	}
	c.PollMax = max(c.PollMax, c.PollMin)
}

// GitHub is the trains.Repo on GitHub or GitHub Enterprise, through
// go-github v62. Build its client with NewClient so that retries and
// conditional polling sit below go-github. It is safe for concurrent use.
type GitHub struct {
	c   *github.Client
	cfg Config
	o   options
	log *slog.Logger
	// owner and name are cfg.Owner and cfg.Repo escaped for a URL path,
	// as go-github does not escape them.
	owner, name string

	mu      sync.Mutex
	tags    map[string]peeled     // tag object sha → what it points at; tag objects never change
	commits map[string]readCommit // full sha → commit, the newest maxCommits read
	pages   map[string]listedPage // URL → the tag listing's page as last read
}

// maxCommits bounds the commits remembered by sha: enough for the heads,
// candidates and tags of a few trains; when full it starts again.
const maxCommits = 256

type peeled struct {
	commit string
	date   time.Time
}

var _ trains.Repo = (*GitHub)(nil)

// New returns the Repo for cfg's repository through client. Options give
// the clock, the sleeper between polls and retries, and the logger.
//
// The Repo works on a copy of client whose requests pass a guard: a
// request for another host than client.BaseURL's, or for a path not
// under repos/<owner>/<name>/ (a ref with ".." parts, a redirect of a
// renamed repository), is refused before it is sent, with an error
// wrapping trains.ErrRefused. Every path parameter is escaped.
func New(client *github.Client, cfg Config, opts ...Option) (*GitHub, error) {
	if client == nil {
		return nil, errors.New("deploy: New needs a GitHub client")
	}
	if cfg.Owner == "" || cfg.Repo == "" {
		return nil, errors.New("deploy: the repository's owner and name are required (TRAINBOT_REPO=owner/name)")
	}
	for _, part := range []string{cfg.Owner, cfg.Repo} {
		if part == "." || part == ".." || strings.Contains(part, "/") {
			return nil, fmt.Errorf("deploy: %q is not a repository owner or name (TRAINBOT_REPO=owner/name)", part)
		}
	}
	if client.BaseURL == nil || !strings.HasSuffix(client.BaseURL.Path, "/") {
		return nil, fmt.Errorf("deploy: the client's BaseURL %v must end with a slash", client.BaseURL)
	}
	cfg.defaults()
	for _, wf := range []string{cfg.DeployWorkflow, cfg.PublishWorkflow} {
		if wf != "" && (wf == "." || wf == ".." || strings.Contains(wf, "/")) {
			return nil, fmt.Errorf("deploy: %q is not a workflow file name (a file in .github/workflows, e.g. deploy.yaml)", wf)
		}
	}
	o := buildOptions(opts)
	return &GitHub{
		c:       guarded(client, cfg.Owner, cfg.Repo),
		cfg:     cfg,
		o:       o,
		log:     o.logger.With("repo", cfg.Owner+"/"+cfg.Repo),
		owner:   url.PathEscape(cfg.Owner),
		name:    url.PathEscape(cfg.Repo),
		tags:    map[string]peeled{},
		commits: map[string]readCommit{},
		pages:   map[string]listedPage{},
	}, nil
}

// Config returns the configuration in use, defaults filled in.
func (g *GitHub) Config() Config { return g.cfg }

func (g *GitHub) repo() string { return g.cfg.Owner + "/" + g.cfg.Repo }

// call gives one API call its deadline.
func (g *GitHub) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.cfg.CallTimeout)
}

func (g *GitHub) explain(op string, a access, err error) error {
	return explain(op, g.repo(), a, g.o.clock.Now(), err)
}

// Tags lists the train tags (names trains.ParseTag accepts) among the
// tags whose names start with "v", with the commit each points at, peeled
// through annotated tag objects, and, for annotated tags, the tagger date
// (lightweight tags have none). Every page of the listing is read (a
// page unchanged since the last listing is a 304, and is not decoded
// again); other tags are left out and their tag objects never read. Tag objects never
// change, so each is fetched once and remembered (not in the
// conditional-request cache, which the listing's pages keep to themselves),
// and, with WithTagObjectCache, kept in the store across restarts.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#list-matching-references
// and https://docs.github.com/rest/git/tags#get-a-tag
func (g *GitHub) Tags(ctx context.Context) ([]trains.RepoTag, error) {
	return g.listTags(ctx, "v")
}

// LineTags lists the train tags of line as Tags does, from the tags whose
// names begin with v<line>- alone: one request (a 304 when the line has
// no new tag) however many tags the repository has.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#list-matching-references
func (g *GitHub) LineTags(ctx context.Context, line trains.Line) ([]trains.RepoTag, error) {
	return g.listTags(ctx, "v"+line.String()+"-")
}

// listTags lists the train tags among the tags whose names begin with
// prefix, peeled, reading every page of git/matching-refs/tags/<prefix>.
func (g *GitHub) listTags(ctx context.Context, prefix string) ([]trains.RepoTag, error) {
	var out []trains.RepoTag
	var objects []int // indexes in out of annotated tags, Commit holding the tag object's sha
	for page := 1; page <= 1000; {
		refs, next, err := g.tagsPage(ctx, prefix, page)
		if err != nil {
			return nil, g.explain("list the tags", readContents, err)
		}
		for _, r := range refs {
			out = append(out, trains.RepoTag{Name: r.name, Commit: r.sha})
			if r.annotated {
				objects = append(objects, len(out)-1)
			}
		}
		if next == 0 {
			if err := g.peelAll(ctx, out, objects); err != nil {
				return nil, err
			}
			return out, nil
		}
		page = next
	}
	return nil, fmt.Errorf("list the tags of %s: more than 1000 pages; giving up", g.repo())
}

// listedRef is a train tag's ref as a page of the listing gives it.
type listedRef struct {
	name, sha string
	annotated bool // sha is a tag object's
}

// listedPage is a page of the tag listing as last read: its ETag, the
// train tags on it and the next page.
type listedPage struct {
	etag string
	refs []listedRef
	next int
}

// tagsPage reads page n of git/matching-refs/tags/<prefix> and returns
// the train tags on it and the next page (0: none). A page whose ETag is the one
// read last time (the conditional-request cache answered it from a 304)
// is not decoded again: the train tags found on it then are returned.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#list-matching-references
func (g *GitHub) tagsPage(ctx context.Context, prefix string, n int) ([]listedRef, int, error) {
	u := fmt.Sprintf("repos/%s/%s/git/matching-refs/tags/%s?per_page=100", g.owner, g.name, url.PathEscape(prefix))
	if n > 1 {
		u += "&page=" + strconv.Itoa(n)
	}
	req, err := g.c.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	cctx, cancel := g.call(ctx)
	defer cancel()
	resp, err := g.c.BareDo(cctx, req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	etag := resp.Header.Get("ETag")
	g.mu.Lock()
	last, ok := g.pages[u]
	g.mu.Unlock()
	if ok && etag != "" && last.etag == etag {
		return last.refs, last.next, nil
	}
	var refs []*github.Reference
	if err := json.NewDecoder(resp.Body).Decode(&refs); err != nil {
		return nil, 0, fmt.Errorf("decode the tag listing: %w", err)
	}
	p := listedPage{etag: etag, next: resp.NextPage}
	for _, r := range refs {
		name := strings.TrimPrefix(r.GetRef(), "refs/tags/")
		if _, err := trains.ParseTag(name); err != nil {
			continue
		}
		p.refs = append(p.refs, listedRef{name: name, sha: r.GetObject().GetSHA(), annotated: r.GetObject().GetType() == "tag"})
	}
	if etag != "" {
		g.mu.Lock()
		g.pages[u] = p
		g.mu.Unlock()
	}
	return p.refs, p.next, nil
}

// peelAll peels the annotated tags at indexes objects of tags: from
// memory, else from the tag object cache (one read for all), else from
// GitHub, keeping what GitHub gave in the cache (one write).
func (g *GitHub) peelAll(ctx context.Context, tags []trains.RepoTag, objects []int) error {
	var missing []string
	g.mu.Lock()
	for _, i := range objects {
		if _, ok := g.tags[tags[i].Commit]; !ok {
			missing = append(missing, tags[i].Commit)
		}
	}
	g.mu.Unlock()
	if len(missing) > 0 && g.o.objects != nil {
		kept, err := g.o.objects.TagObjects(ctx, missing)
		if err != nil {
			g.log.WarnContext(ctx, "cannot read the kept tag objects; reading them from GitHub", slog.Any("error", err))
		}
		g.mu.Lock()
		for sha, o := range kept {
			g.tags[sha] = peeled{commit: o.Commit, date: o.Date}
		}
		g.mu.Unlock()
	}
	fetched := map[string]trains.TagObject{}
	for _, i := range objects {
		t := &tags[i]
		sha := t.Commit
		g.mu.Lock()
		p, ok := g.tags[sha]
		g.mu.Unlock()
		if !ok {
			var err error
			if p, err = g.peel(ctx, sha); err != nil {
				return fmt.Errorf("read tag %s: %w", t.Name, err)
			}
			fetched[sha] = trains.TagObject{Commit: p.commit, Date: p.date}
		}
		t.Commit, t.Date = p.commit, p.date
	}
	if len(fetched) > 0 && g.o.objects != nil {
		if err := g.o.objects.PutTagObjects(ctx, fetched); err != nil {
			g.log.WarnContext(ctx, "cannot keep the tag objects read; they will be read from GitHub again after a restart", slog.Any("error", err))
		}
	}
	return nil
}

// peel follows a tag object to its commit and returns the outermost
// tagger date.
//
// GitHub API docs: https://docs.github.com/rest/git/tags#get-a-tag
func (g *GitHub) peel(ctx context.Context, sha string) (peeled, error) {
	g.mu.Lock()
	p, ok := g.tags[sha]
	g.mu.Unlock()
	if ok {
		return p, nil
	}
	obj := sha
	for range 5 {
		cctx, cancel := g.call(ctx)
		t, _, err := g.c.Git.GetTag(cctx, g.owner, g.name, escapePath(obj))
		cancel()
		if err != nil {
			return peeled{}, g.explain("read tag object "+trains.ShortSHA(obj), readContents, err)
		}
		if p.date.IsZero() {
			p.date = t.GetTagger().GetDate().Time
		}
		obj = t.GetObject().GetSHA()
		if t.GetObject().GetType() != "tag" {
			p.commit = obj
			g.mu.Lock()
			g.tags[sha] = p
			g.mu.Unlock()
			return p, nil
		}
	}
	return peeled{}, fmt.Errorf("tag object %s is nested more than 5 deep", trains.ShortSHA(sha))
}

// ref reads refs/<ref> and returns the commit it points at, peeled, and
// the tag object's date when it is annotated. ErrNotFound: no such ref.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#get-a-reference
func (g *GitHub) ref(ctx context.Context, ref string) (peeled, error) {
	// GetRef escapes each segment of ref, but leaves ".." to the resolver.
	if err := checkSegments("the ref", ref); err != nil {
		return peeled{}, err
	}
	cctx, cancel := g.call(ctx)
	r, _, err := g.c.Git.GetRef(cctx, g.owner, g.name, ref)
	cancel()
	if err != nil {
		return peeled{}, g.explain("read "+ref, readContents, err)
	}
	if r.GetObject().GetType() == "tag" {
		return g.peel(ctx, r.GetObject().GetSHA())
	}
	return peeled{commit: r.GetObject().GetSHA()}, nil
}

// TagDate returns when a tag was made: an annotated tag's tagger date,
// else its commit's committer date. ErrNotFound: no such tag.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#get-a-reference
// and https://docs.github.com/rest/commits/commits#get-a-commit
func (g *GitHub) TagDate(ctx context.Context, name string) (time.Time, error) {
	p, err := g.ref(ctx, "tags/"+name)
	if err != nil {
		return time.Time{}, err
	}
	if !p.date.IsZero() {
		return p.date, nil
	}
	c, err := g.commit(ctx, p.commit)
	if err != nil {
		return time.Time{}, g.explain("read commit "+trains.ShortSHA(p.commit)+" of tag "+name, readContents, notFound422(err))
	}
	return c.committed, nil
}

// Head returns the commit at the head of the release branch. It reads the
// branch ref rather than the branch (go-github v62 leaves GetBranch's
// errors untyped).
//
// GitHub API docs: https://docs.github.com/rest/git/refs#get-a-reference
// and https://docs.github.com/rest/commits/commits#get-a-commit
func (g *GitHub) Head(ctx context.Context) (trains.Commit, error) {
	p, err := g.ref(ctx, "heads/"+g.cfg.Branch)
	if err != nil {
		if errors.Is(err, trains.ErrNotFound) {
			return trains.Commit{}, fmt.Errorf("the release branch %s does not exist in %s (TRAINBOT_BRANCH): %w", g.cfg.Branch, g.repo(), err)
		}
		return trains.Commit{}, err
	}
	return g.Commit(ctx, p.commit)
}

// Commit resolves a sha, branch or tag. ErrNotFound: no such commit.
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#get-a-commit
//
// A commit named by its full sha never changes: it is remembered, and
// asked for again only once forgotten.
func (g *GitHub) Commit(ctx context.Context, ref string) (trains.Commit, error) {
	c, err := g.commit(ctx, ref)
	if err != nil {
		return trains.Commit{}, g.explain("find commit "+ref, readContents, notFound422(err))
	}
	return c.Commit, nil
}

// readCommit is a commit as read, with its committer date.
type readCommit struct {
	trains.Commit
	committed time.Time
}

// commit reads a commit, from memory when ref is a full sha read before.
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#get-a-commit
func (g *GitHub) commit(ctx context.Context, ref string) (readCommit, error) {
	g.mu.Lock()
	c, ok := g.commits[ref]
	g.mu.Unlock()
	if ok {
		return c, nil
	}
	cctx, cancel := g.call(ctx)
	rc, _, err := g.c.Repositories.GetCommit(cctx, g.owner, g.name, escapePath(ref), &github.ListOptions{PerPage: 1})
	cancel()
	if err != nil {
		return readCommit{}, err
	}
	c = readCommit{Commit: toCommit(rc), committed: rc.GetCommit().GetCommitter().GetDate().Time}
	if c.SHA == ref {
		g.mu.Lock()
		if len(g.commits) >= maxCommits {
			clear(g.commits)
		}
		g.commits[ref] = c
		g.mu.Unlock()
	}
	return c, nil
}

// notFound422 marks GitHub's 422 "No commit found for SHA: x" as a 404:
// the message is the only way to tell it from other 422s.
func notFound422(err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == 422 &&
		strings.HasPrefix(er.Message, "No commit found") {
		er.Response.StatusCode = 404
	}
	return err
}

func toCommit(c *github.RepositoryCommit) trains.Commit {
	author := c.GetAuthor().GetLogin()
	if author == "" {
		author = c.GetCommit().GetAuthor().GetName()
	}
	date := c.GetCommit().GetAuthor().GetDate().Time
	if date.IsZero() {
		date = c.GetCommit().GetCommitter().GetDate().Time
	}
	return trains.Commit{
		SHA:     c.GetSHA(),
		Message: c.GetCommit().GetMessage(),
		Author:  author,
		Date:    date,
		URL:     c.GetHTMLURL(),
	}
}

// Compare returns the commits in head that are not in base, oldest first,
// and the compare view. Past 250 commits it returns the newest 250 (Total
// counts them all): asked without per_page or page, GitHub's compare
// lists 250 commits of which the last is the newest of the comparison,
// so one request gives what the dry run and `changes` show.
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#compare-two-commits
func (g *GitHub) Compare(ctx context.Context, base, head string) (trains.Comparison, error) {
	cctx, cancel := g.call(ctx)
	cmp, _, err := g.c.Repositories.CompareCommits(cctx, g.owner, g.name, base, head, nil)
	cancel()
	if unrelated(err) {
		return trains.Comparison{}, fmt.Errorf("compare %s with %s: they share no history (one is on an unrelated branch, such as an orphan gh-pages): %w",
			trains.ShortSHA(base), trains.ShortSHA(head), trains.ErrRefused)
	}
	if err != nil {
		return trains.Comparison{}, g.explain("compare "+base+" with "+head, readContents, err)
	}
	out := trains.Comparison{Total: cmp.GetTotalCommits(), Behind: cmp.GetBehindBy(), URL: cmp.GetHTMLURL()}
	for _, c := range cmp.Commits {
		out.Commits = append(out.Commits, toCommit(c))
	}
	return out, nil
}

// Log returns the commits reachable from ref, newest first, at most
// limit (one page of the commit list), and whether older ones exist.
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#list-commits
func (g *GitHub) Log(ctx context.Context, ref string, limit int) ([]trains.Commit, bool, error) {
	limit = min(max(limit, 1), 100)
	cctx, cancel := g.call(ctx)
	cs, resp, err := g.c.Repositories.ListCommits(cctx, g.owner, g.name, &github.CommitsListOptions{SHA: ref, ListOptions: github.ListOptions{PerPage: limit}})
	cancel()
	if err != nil {
		if status(err) == http.StatusNotFound || status(err) == http.StatusUnprocessableEntity {
			return nil, false, fmt.Errorf("no commit %s in %s: %w", ref, g.repo(), trains.ErrNotFound)
		}
		return nil, false, g.explain("list the history of "+ref, readContents, err)
	}
	out := make([]trains.Commit, 0, len(cs))
	for _, c := range cs {
		out = append(out, toCommit(c))
	}
	return out, resp.NextPage != 0, nil
}

// unrelated reports whether err is GitHub's answer to a compare of two
// histories with no common ancestor: 404 "No common ancestor between …".
func unrelated(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound &&
		strings.HasPrefix(er.Message, "No common ancestor")
}

// Contains reports whether ancestor is reachable from descendant: the
// comparison ancestor...descendant is identical or ahead. ErrNotFound:
// either is unknown.
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#compare-two-commits
func (g *GitHub) Contains(ctx context.Context, ancestor, descendant string) (bool, error) {
	if ancestor == descendant {
		return true, nil
	}
	cctx, cancel := g.call(ctx)
	cmp, _, err := g.c.Repositories.CompareCommits(cctx, g.owner, g.name, ancestor, descendant, &github.ListOptions{PerPage: 1})
	cancel()
	if unrelated(err) {
		return false, nil // no common history: neither contains the other
	}
	if err != nil {
		return false, g.explain("check whether "+trains.ShortSHA(ancestor)+" is in "+trains.ShortSHA(descendant), readContents, err)
	}
	switch cmp.GetStatus() {
	case "identical", "ahead":
		return true, nil
	}
	return false, nil
}
