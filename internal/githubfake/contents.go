package githubfake

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// This file holds the repository's files and what writes them: the
// Contents API (GET and PUT /repos/{o}/{r}/contents/{path}), branch
// protection as the Contents API and the git refs API meet it, and
// updating a ref (PATCH git/refs/{ref}). Pull requests are in pulls.go.
//
// Files live in snapshots: a commit made through the Contents API or
// SetFile records every file of its tree; a commit without a snapshot
// (AddCommit) has the files of its first parent.

// files is the state of this file's endpoints, made on first use.
type files struct {
	snaps     map[string]map[string]string // commit sha → path → content
	protected map[string]bool              // branch names
	pulls     []*pull
	nextPull  int
}

// filesLocked returns the files state, making it on first use. f.mu is held.
func (f *Fake) filesLocked() *files {
	if f.files == nil {
		f.files = &files{snaps: map[string]map[string]string{}, protected: map[string]bool{}, nextPull: 1346}
	}
	return f.files
}

// treeLocked returns the files at commit sha (not to be changed).
func (f *Fake) treeLocked(sha string) map[string]string {
	fs := f.filesLocked()
	for sha != "" {
		if snap, ok := fs.snaps[sha]; ok {
			return snap
		}
		c, ok := f.commits[sha]
		if !ok || len(c.parents) == 0 {
			break
		}
		sha = c.parents[0]
	}
	return map[string]string{}
}

// commitFileLocked commits content at path on top of branch, with
// message, and returns the new commit. f.mu is held; the branch exists.
func (f *Fake) commitFileLocked(branch, file, content, message, author string) *commit {
	head := f.branches[branch]
	tree := map[string]string{}
	for p, c := range f.treeLocked(head) {
		tree[p] = c
	}
	tree[file] = content
	parents := []string{head}
	c := &commit{message: message, author: author, date: f.now(), parents: parents, gen: f.generation(parents)}
	c.sha = f.newSHA(head, file, content, message)
	f.commits[c.sha] = c
	f.filesLocked().snaps[c.sha] = tree
	f.branches[branch] = c.sha
	f.refsGen++
	return c
}

// SetFile commits content at path on branch, which must exist, as a
// person pushing would, and returns the commit's sha. Protection does not
// apply: it stands for whoever may push.
func (f *Fake) SetFile(branch, file, content, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.branches[branch]; !ok {
		f.t.Fatalf("githubfake: SetFile: no branch %s", branch)
	}
	return f.commitFileLocked(branch, file, content, message, "octocat").sha
}

// File returns the content of path at ref (a branch, tag or sha), and
// whether it exists there.
func (f *Fake) File(ref, file string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sha, ok := f.resolve(ref)
	if !ok {
		return "", false
	}
	c, ok := f.treeLocked(sha)[file]
	return c, ok
}

// CommitMessage returns the message of the commit ref (a branch, tag or
// sha) resolves to, "" when there is none.
func (f *Fake) CommitMessage(ref string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sha, ok := f.resolve(ref)
	if !ok {
		return ""
	}
	return f.commits[sha].message
}

// Protect protects branch as a branch protection rule requiring pull
// requests does: a Contents API write to it is refused with 409
// "Repository rule violations found … Changes must be made through a pull
// request." and a ref update with 422 "Protected branch update failed".
// GET branches/{b} says "protected": true.
func (f *Fake) Protect(branch string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filesLocked().protected[branch] = true
}

// protectedLocked reports whether branch is protected. f.mu is held.
func (f *Fake) protectedLocked(branch string) bool {
	return f.files != nil && f.files.protected[branch]
}

// blobSHA is git's blob id of content.
func blobSHA(content string) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00%s", len(content), content)
	return hex.EncodeToString(h.Sum(nil))
}

// base64Lines encodes as GitHub's Contents API does: base64 in lines of 60
// characters, each ending in a newline.
func base64Lines(content string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(content))
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	return b.String()
}

// contentJSON is the content-file shape (without content and encoding,
// which GET adds), for ref (a branch or sha) and path.
func (f *Fake) contentJSON(ex *exchange, ref, file, content string) map[string]any {
	sha := blobSHA(content)
	self := f.apiURL(ex, "contents/"+file+"?ref="+ref)
	git := f.apiURL(ex, "git/blobs/"+sha)
	html := f.htmlURL("blob/" + ref + "/" + file)
	return map[string]any{
		"type":         "file",
		"name":         path.Base(file),
		"path":         file,
		"sha":          sha,
		"size":         len(content),
		"url":          self,
		"git_url":      git,
		"html_url":     html,
		"download_url": "https://raw.githubusercontent.com/" + f.owner + "/" + f.name + "/" + ref + "/" + file,
		"_links":       map[string]any{"self": self, "git": git, "html": html},
	}
}

// getContents answers GET contents/{path}?ref=: the file at ref (the
// default branch when none), base64 in 60-character lines; a folder lists
// its entries. 404 "Not Found" when there is no such file, "No commit
// found for the ref x" when there is no such ref.
//
// GitHub API docs: https://docs.github.com/rest/repos/contents#get-repository-content
func (f *Fake) getContents(ex *exchange, file string) {
	ref := ex.r.URL.Query().Get("ref")
	if ref == "" {
		ref = DefaultBranch
	}
	sha, ok := f.resolve(ref)
	if !ok {
		writeError(ex.w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	file = strings.Trim(file, "/")
	tree := f.treeLocked(sha)
	if content, ok := tree[file]; ok {
		out := f.contentJSON(ex, ref, file, content)
		out["content"] = base64Lines(content)
		out["encoding"] = "base64"
		writeJSON(ex, http.StatusOK, out)
		return
	}
	var dir []map[string]any
	for p, content := range tree {
		if rest, ok := strings.CutPrefix(p, file+"/"); ok && !strings.Contains(rest, "/") {
			dir = append(dir, f.contentJSON(ex, ref, p, content))
		}
	}
	if len(dir) == 0 {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return
	}
	sort.Slice(dir, func(i, j int) bool { return dir[i]["path"].(string) < dir[j]["path"].(string) })
	writeJSON(ex, http.StatusOK, dir)
}

// putContents answers PUT contents/{path}: it commits the file on the
// branch (the default branch when none) and answers 201 for a new file,
// 200 for a replaced one, with the content and the commit. As GitHub:
//
//   - 422 "Invalid request. "message" wasn't supplied." without a message,
//     422 when content is not base64;
//   - 404 "Branch x not found" for a branch that does not exist;
//   - 409 "Repository rule violations found" on a protected branch;
//   - 422 "Invalid request. "sha" wasn't supplied." when the file exists
//     and no sha is given, 409 "<path> does not match <sha>" when the sha
//     given is not the file's blob.
//
// GitHub API docs: https://docs.github.com/rest/repos/contents#create-or-update-file-contents
func (f *Fake) putContents(ex *exchange, file string) {
	var req struct {
		Message *string `json:"message"`
		Content *string `json:"content"`
		SHA     string  `json:"sha"`
		Branch  string  `json:"branch"`
	}
	if !decode(ex, &req) {
		return
	}
	switch {
	case req.Message == nil:
		writeValidation(ex.w, "Invalid request.\n\n\"message\" wasn't supplied.", nil)
		return
	case req.Content == nil:
		writeValidation(ex.w, "Invalid request.\n\n\"content\" wasn't supplied.", nil)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(*req.Content, "\n", ""))
	if err != nil {
		writeValidation(ex.w, "content is not valid Base64", nil)
		return
	}
	branch := req.Branch
	if branch == "" {
		branch = DefaultBranch
	}
	head, ok := f.branches[branch]
	if !ok {
		writeError(ex.w, http.StatusNotFound, "Branch "+branch+" not found")
		return
	}
	if f.protectedLocked(branch) {
		writeError(ex.w, http.StatusConflict, "Repository rule violations found\n\nChanges must be made through a pull request.\n\n")
		return
	}
	file = strings.Trim(file, "/")
	old, exists := f.treeLocked(head)[file]
	switch {
	case exists && req.SHA == "":
		writeValidation(ex.w, "Invalid request.\n\n\"sha\" wasn't supplied.", nil)
		return
	case exists && req.SHA != blobSHA(old), !exists && req.SHA != "":
		writeError(ex.w, http.StatusConflict, file+" does not match "+req.SHA)
		return
	}
	c := f.commitFileLocked(branch, file, string(raw), *req.Message, f.callerOr("trainbot[bot]"))
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	person := map[string]any{"name": c.author, "email": c.author + "@users.noreply.github.com", "date": c.date.Format(time.RFC3339)}
	writeJSON(ex, status, map[string]any{
		"content": f.contentJSON(ex, branch, file, string(raw)),
		"commit": map[string]any{
			"sha":       c.sha,
			"node_id":   "C_" + c.sha[:10],
			"url":       f.apiURL(ex, "git/commits/"+c.sha),
			"html_url":  f.htmlURL("commit/" + c.sha),
			"author":    person,
			"committer": person,
			"message":   c.message,
			"tree":      map[string]any{"sha": c.sha, "url": f.apiURL(ex, "git/trees/"+c.sha)},
			"parents":   []map[string]any{{"sha": head, "url": f.apiURL(ex, "git/commits/"+head), "html_url": f.htmlURL("commit/" + head)}},
			"verification": map[string]any{
				"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil,
			},
		},
	})
}

// updateRef answers PATCH git/refs/{ref} {"sha","force"}: 200 with the
// ref; 422 "Reference does not exist", "Object does not exist", "Update is
// not a fast forward" (without force), "Protected branch update failed
// for refs/heads/x." on a protected branch.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#update-a-reference
func (f *Fake) updateRef(ex *exchange, ref string) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !decode(ex, &req) {
		return
	}
	full := "refs/" + ref
	b, isBranch := strings.CutPrefix(ref, "heads/")
	var old string
	var exists bool
	if isBranch {
		old, exists = f.branches[b]
	} else {
		old, exists = f.refs[full]
	}
	if !exists {
		writeValidation(ex.w, "Reference does not exist", nil)
		return
	}
	if _, ok := f.commits[req.SHA]; !ok {
		if _, ok := f.tagObjects[req.SHA]; !ok || isBranch {
			writeValidation(ex.w, "Object does not exist", nil)
			return
		}
	}
	if isBranch && f.protectedLocked(b) {
		writeValidation(ex.w, "Protected branch update failed for "+full+".", nil)
		return
	}
	if !req.Force && !f.ancestorLocked(old, req.SHA) {
		writeValidation(ex.w, "Update is not a fast forward", nil)
		return
	}
	if isBranch {
		f.branches[b] = req.SHA
	} else {
		f.refs[full] = req.SHA
	}
	f.refsGen++
	writeJSON(ex, http.StatusOK, f.refJSON(ex, full, req.SHA))
}

// ancestorLocked reports whether commit a is reachable from commit b.
func (f *Fake) ancestorLocked(a, b string) bool {
	seen := map[string]bool{}
	todo := []string{b}
	for len(todo) > 0 {
		sha := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if sha == a {
			return true
		}
		if seen[sha] {
			continue
		}
		seen[sha] = true
		if c, ok := f.commits[sha]; ok {
			todo = append(todo, c.parents...)
		}
	}
	return false
}

// writeValidation answers 422 with GitHub's validation-error shape.
func writeValidation(w http.ResponseWriter, message string, errs []map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusUnprocessableEntity)
	body := map[string]any{
		"message":           message,
		"documentation_url": "https://docs.github.com/rest",
		"status":            "422",
	}
	if errs != nil {
		body["errors"] = errs
	}
	_ = json.NewEncoder(w).Encode(body)
}
