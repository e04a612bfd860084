// Command gendocs writes the /train command reference, made from the
// command table by commands.ReferenceMarkdown, to the file -o names. It
// runs from `go generate ./commands/`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/trainbot/trainbot/commands"
)

func main() {
	out := flag.String("o", "", "the file to write, e.g. ../docs/commands.md")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gendocs -o FILE (run by go generate ./commands/)")
		os.Exit(2)
	}
	if err := os.WriteFile(*out, commands.ReferenceMarkdown(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: write the command reference: %v\n", err)
		os.Exit(1)
	}
}
