package commands

import (
	"bytes"
	"fmt"
	"strings"
)

//go:generate go run ./internal/gendocs -o ../docs/commands.md

// ReferenceFile is where the generated command reference is kept, from
// the repository's root.
const ReferenceFile = "docs/commands.md"

// Entry is one command of the table as the reference shows it.
type Entry struct {
	// Name is the command's name: /train Name.
	Name string
	// Usage is the usage line after "/train ", flags included.
	Usage string
	// Summary says what the command does.
	Summary string
	// Who says who may run it, and with which flags anyone may.
	Who string
	// Flags are the command's --flags.
	Flags []FlagEntry
	// Examples are the command as typed, "/train …" (none for some).
	Examples []string
}

// FlagEntry is one --flag of a command.
type FlagEntry struct {
	// Name is the flag without its dashes.
	Name string
	// Does says what it does.
	Does string
	// Anyone is set when anyone may run the command with it.
	Anyone bool
}

// Reference returns every command of the table, in the order help lists
// them.
func Reference() []Entry {
	var out []Entry
	for _, c := range table() {
		e := Entry{Name: c.name, Usage: c.usage(), Summary: c.summary, Who: c.whoMay(), Examples: examples[c.name]}
		for _, f := range c.flags {
			e.Flags = append(e.Flags, FlagEntry{Name: f.name, Does: f.does, Anyone: f.anyone})
		}
		out = append(out, e)
	}
	return out
}

// ReferenceMarkdown is the command reference, docs/commands.md, made from
// the table: `go generate ./commands/` writes it.
func ReferenceMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("<!-- Generated from the command table (commands/table.go, commands/examples.go) by `go generate ./commands/`. Do not edit. -->\n\n")
	b.WriteString("# /train commands\n\n")
	b.WriteString("Every command trainbot answers, in Slack (`/train …`) and in `trainbot console`. ")
	b.WriteString("Trains are named `next`, `next-dev`, `next-staging`, or by id, such as `dev-2026-12-01`; ")
	b.WriteString("mention people as `@name`. `/train help <command>` says the same in Slack.\n\n")
	b.WriteString("| command | what it does | who may run it |\n|---|---|---|\n")
	for _, e := range Reference() {
		fmt.Fprintf(&b, "| [`/train %s`](#train-%s) | %s | %s |\n", cell(e.Usage), e.Name, cell(e.Summary), cell(e.Who))
	}
	for _, e := range Reference() {
		fmt.Fprintf(&b, "\n## /train %s\n\n", e.Name)
		fmt.Fprintf(&b, "```\n/train %s\n```\n\n", e.Usage)
		fmt.Fprintf(&b, "%s.\n\n", sentence(e.Summary))
		fmt.Fprintf(&b, "**Who:** %s.\n", e.Who)
		if len(e.Flags) > 0 {
			b.WriteString("\n**Flags:**\n\n")
			for _, f := range e.Flags {
				anyone := ""
				if f.Anyone {
					anyone = " Anyone may use it."
				}
				fmt.Fprintf(&b, "- `--%s`: %s.%s\n", f.Name, f.Does, anyone)
			}
		}
		if len(e.Examples) > 0 {
			b.WriteString("\n**Examples:**\n\n```\n")
			for _, x := range e.Examples {
				b.WriteString(x + "\n")
			}
			b.WriteString("```\n")
		}
	}
	return b.Bytes()
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// sentence starts s with a capital letter.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
