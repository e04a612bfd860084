package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's set-up is still two commands, and every docs/ file it names
// exists.
func TestReadmeSetUpAndLinks(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	_, setup, ok := strings.Cut(readme, "## Set up\n")
	if !ok {
		t.Fatal("README.md has no \"## Set up\" section")
	}
	_, block, _ := strings.Cut(setup, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var cmds []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if want := []string{"go run ./cmd/trainbot console", "go test ./..."}; strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("the README's set-up is %q, want the two commands %q", cmds, want)
	}
	for _, m := range regexp.MustCompile(`docs/[A-Za-z0-9_./-]*[A-Za-z0-9_/]`).FindAllString(readme, -1) {
		if strings.HasPrefix(m, "docs/governance/") { // the released repository's, not ours
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(m))); err != nil {
			t.Errorf("README.md names %s, which does not exist", m)
		}
	}
}
