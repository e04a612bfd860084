package commands

import (
	"slices"
	"testing"
)

// Every command of the table has examples for the reference, and every
// command the examples are kept for is in the table: a command added
// without examples, or removed and its examples left behind, fails here.
func TestExamplesMatchTheTable(t *testing.T) {
	t.Parallel()
	inTable := map[string]bool{}
	for _, c := range table() {
		inTable[c.name] = true
		if len(examples[c.name]) == 0 {
			t.Errorf("/train %s has no examples: add them under %q in commands/examples.go (the reference, docs/commands.md, shows them)", c.name, c.name)
		}
	}
	var stray []string
	for name := range examples {
		if !inTable[name] {
			stray = append(stray, name)
		}
	}
	slices.Sort(stray)
	for _, name := range stray {
		t.Errorf("commands/examples.go has examples for %q, which is not a command of the table (commands/table.go): remove them, or rename them to the command's new name", name)
	}
}
