package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// command is one /train subcommand. The table of them is the one place
// help, usage errors, "did you mean", the flags the parser accepts and the
// metric labels (Names) come from.
type command struct {
	name    string
	args    string // the usage after the name, flags aside
	flags   []flag // the --flags it takes, in the order usage shows them
	summary string
	who     string // who may run it, for help; flags that anyone may use are added
	run     func(ctx context.Context, c *call) (trains.Message, error)
}

// flag is an option of a command, written --name anywhere after the
// command's name.
type flag struct {
	name   string // without the dashes
	does   string // what it does, one line, after "--name " in help
	anyone bool   // anyone may run the command with it
}

// Flags more than one command takes.
var dryRun = flag{name: "dry-run", does: "previews it", anyone: true}

// usage is the command's usage line, after "/train ": its name, its
// arguments, then each flag.
func (c *command) usage() string {
	u := c.name
	if c.args != "" {
		u += " " + c.args
	}
	for _, f := range c.flags {
		u += " [--" + f.name + "]"
	}
	return u
}

// about is the command's summary with what each of its flags does.
func (c *command) about() string {
	if len(c.flags) == 0 {
		return c.summary
	}
	does := make([]string, len(c.flags))
	for i, f := range c.flags {
		does[i] = "--" + f.name + " " + f.does
	}
	return c.summary + " (" + strings.Join(does, "; ") + ")"
}

// whoMay says who may run the command, and with which flags anyone may.
func (c *command) whoMay() string {
	var open []string
	for _, f := range c.flags {
		if f.anyone {
			open = append(open, "--"+f.name)
		}
	}
	if len(open) == 0 {
		return c.who
	}
	return c.who + " (anyone with " + strings.Join(open, " or ") + ")"
}

// flag returns the flag of c named name.
func (c *command) flag(name string) (flag, bool) {
	i := slices.IndexFunc(c.flags, func(f flag) bool { return f.name == name })
	if i < 0 {
		return flag{}, false
	}
	return c.flags[i], true
}

// call is one run of a command.
type call struct {
	h    *Commands
	cmd  *command
	req  Request
	text string          // the request's text
	args []token         // the words after the command name, flags taken out
	set  map[string]bool // the flags given
}

// parseFlags takes the --flags c declares out of the words, returning the
// others and the flags given. A word starting with -- that c does not
// declare is an error. A command that declares no flags takes every word
// as it is.
func parseFlags(c *command, args []token) ([]token, map[string]bool, error) {
	set := map[string]bool{}
	if len(c.flags) == 0 {
		return args, set, nil
	}
	var words []token
	for _, a := range args {
		name, ok := strings.CutPrefix(a.text, "--")
		if !ok {
			words = append(words, a)
			continue
		}
		if _, known := c.flag(name); !known {
			return nil, nil, fmt.Errorf("unknown flag %s", humanText(a.text))
		}
		set[name] = true
	}
	return words, set, nil
}

// arg returns word i, or "".
func (c *call) arg(i int) string {
	if i < len(c.args) {
		return c.args[i].text
	}
	return ""
}

// given reports whether the flag named name was given. It panics when the
// command does not declare that flag in the table: a bug, found by the
// first run of the command.
func (c *call) given(name string) bool {
	if _, ok := c.cmd.flag(name); !ok {
		panic(fmt.Sprintf("command %q reads the flag --%s, which its table entry does not declare", c.cmd.name, name))
	}
	return c.set[name]
}

// rest returns the text from word i on, verbatim, but for the flags given
// among it: "fix it --force" is the reason "fix it".
func (c *call) rest(i int) string {
	if len(c.set) == 0 {
		return rest(c.text, c.args, i)
	}
	if i >= len(c.args) {
		return ""
	}
	var b strings.Builder
	end, skipped := -1, false // where the last word kept ends; a flag since
	for _, t := range tokenize(c.text) {
		switch {
		case t.pos < c.args[i].pos:
			continue
		case strings.HasPrefix(t.text, "--"):
			skipped = true
			continue
		case end >= 0 && skipped:
			b.WriteString(" ")
		case end >= 0:
			b.WriteString(c.text[end:t.pos])
		}
		b.WriteString(t.text)
		end, skipped = t.pos+len(t.text), false
	}
	return b.String()
}

// usageError is a malformed command: the reply shows the usage.
type usageError struct {
	cmd *command
	why string
}

func (e *usageError) Error() string { return e.why }

// usage returns a usage error for c's command.
func (c *call) usage(format string, args ...any) error {
	return &usageError{cmd: c.cmd, why: fmt.Sprintf(format, args...)}
}

// table is the command table.
func table() []*command {
	return []*command{
		{name: "help", args: "[command]", summary: "what trainbot does and how to ask it", who: "anyone", run: runHelp},
		{name: "calendar", flags: []flag{{name: "publish", does: "commits it to the repository's calendar file now (releasers), or updates its pull request when the branch is protected"}}, summary: "the next four trains, quiet windows and recent hotfixes", who: "anyone; releasers with --publish", run: runCalendar},
		{name: "cut", args: "dev|staging", flags: []flag{{name: "force", does: "promotes staging without missing hotfixes"}, dryRun}, summary: "cut a train now", who: "releasers", run: runCut},
		{name: "hotfix", args: "<sha|branch> <reason>", flags: []flag{{name: "force", does: "ships a commit that carries more than the fix: commits not yet in staging, or not built on the staging tag or on the last hotfix since it"}, dryRun}, summary: "tag and deploy a commit now, even in a quiet window: a fix on a branch cut from the staging tag (or from the last hotfix since it)", who: "releasers, validators, or the next train's on-call", run: runHotfix},
		{name: "retry", args: "<train>", summary: "dispatch a failed train's deploy again on the same tag (the Retry deploy button); it keeps the failed runs as attempts", who: "releasers or the train's on-call", run: runRetry},
		{name: "rollback", args: "dev|staging|<tag> <reason>", flags: []flag{dryRun}, summary: "deploy again the tag deployed before the one deployed now (from the deploy workflow's runs), even in a quiet window, as a train of its own; naming the tag to roll back from (as the Roll back button does) refuses once the environment no longer runs it", who: "releasers or the on-call", run: runRollback},
		{name: "approve", args: "<train> [<dev tag>]", summary: "sign off what a staging train would ship, e.g. next-staging or staging-2026-12-09; naming the dev tag you saw refuses the approval if the candidate has changed", who: "validators", run: runApprove},
		{name: "confirm", args: "<train>", summary: "say you are on a train (the I'm on it button); an unconfirmed train is skipped", who: "the train's on-call or releasers", run: runConfirm},
		{name: "skip", args: "<train> [reason]", summary: "skip a coming train (the Skip button)", who: "the train's on-call or releasers", run: runSkip},
		{name: "pause", args: "[<duration>|until <time>|from <time> until <time>] <reason>", summary: "hold trains for a quiet window; alone, list the windows (times in UTC: 2026-12-02T18:00Z or 2026-12-02 18:00)", who: "chain ops or releasers (anyone to list)", run: runPause},
		{name: "resume", summary: "end the active quiet window now", who: "chain ops or releasers", run: runResume},
		{name: "oncall", args: "[rotation @a @b … | set <train> @x | swap @a @b]", summary: "show or change who is on call for each train", who: "anyone to show; releasers to change", run: runOnCall},
		{name: "line", args: "<X.Y.Z>", summary: "start a new release line for the next dev train", who: "releasers", run: runLine},
		{name: "changes", args: "<tag>", flags: []flag{{name: "markdown", does: "gives a Markdown snippet for a post-incident review", anyone: true}}, summary: "the commits a train tag shipped", who: "anyone", run: runChanges},
		{name: "history", args: "[N]", summary: "the last N trains (10)", who: "anyone", run: runHistory},
		{name: "stats", args: "[Nd]", summary: "the RFC's success metrics over N days (30)", who: "anyone", run: runStats},
	}
}

// checkTable reports a command or a flag named twice.
func checkTable(cmds []*command) error {
	seen := map[string]bool{}
	for _, c := range cmds {
		if seen[c.name] {
			return fmt.Errorf("command %q is defined twice", c.name)
		}
		seen[c.name] = true
		flags := map[string]bool{}
		for _, f := range c.flags {
			if flags[f.name] {
				return fmt.Errorf("command %q has the flag --%s twice", c.name, f.name)
			}
			flags[f.name] = true
		}
	}
	return nil
}

// Names are the names of the /train commands, in the order help lists
// them: the labels of trainbot_command_duration_seconds (bot.NewMetrics).
func Names() []string {
	cmds := table()
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	return names
}

// find returns the command named name.
func (h *Commands) find(name string) *command {
	i := slices.IndexFunc(h.cmds, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return h.cmds[i]
}

// nearest returns the command whose name is closest to name, if close enough.
func (h *Commands) nearest(name string) *command {
	var best *command
	bestD := 3
	for _, c := range h.cmds {
		d := distance(strings.ToLower(name), c.name)
		if strings.HasPrefix(c.name, strings.ToLower(name)) && len(name) >= 2 {
			d = 0
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 {
		return 64
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// usageText is the usage line of c.
func usageText(c *command) trains.Text {
	return trains.Text{trains.T("Usage: "), trains.C("/train " + c.usage())}
}

// helpMessage lists every command, or explains one.
func (h *Commands) helpMessage(one *command) trains.Message {
	if one != nil {
		return trains.Message{Blocks: []trains.Block{
			{Kind: trains.Section, Text: trains.Text{trains.C("/train " + one.usage()), trains.T(" — " + one.about() + ".")}},
			{Kind: trains.Context, Text: trains.Text{trains.T("Who: " + one.whoMay() + ".")}},
		}}
	}
	m := trains.Message{Blocks: []trains.Block{
		{Kind: trains.Header, Text: trains.Text{trains.T("🚂 trainbot")}},
		{Kind: trains.Section, Text: trains.Text{trains.T("Release trains: a weekly dev train, a bi-weekly staging train after a soak, and hotfixes on demand. Every train makes a tag and deploys it.")}},
	}}
	var lines trains.Text
	for i, c := range h.cmds {
		if i > 0 {
			lines = append(lines, trains.T("\n"))
		}
		lines = append(lines, trains.C("/train "+c.usage()), trains.T(" — "+c.about()))
	}
	m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: lines},
		trains.Block{Kind: trains.Context, Text: trains.Text{trains.T("Trains: next, next-dev, next-staging, or an id such as dev-2026-12-01. Mention people as @name. "), trains.C("/train help <command>"), trains.T(" says who may run it.")}})
	return m
}
