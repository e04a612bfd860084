package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// command is one /train subcommand. The table of them is the one place
// help, usage errors and "did you mean" come from.
type command struct {
	name    string
	usage   string // after "/train "
	summary string
	who     string // who may run it, for help
	run     func(ctx context.Context, c *call) (trains.Message, error)
}

// call is one run of a command.
type call struct {
	h    *Commands
	cmd  *command
	req  Request
	text string  // the request's text
	args []token // the words after the command name
}

// arg returns word i, or "".
func (c *call) arg(i int) string {
	if i < len(c.args) {
		return c.args[i].text
	}
	return ""
}

// rest returns the text from word i on, verbatim.
func (c *call) rest(i int) string { return rest(c.text, c.args, i) }

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

// table builds the command table; a name given twice is an error.
func table() ([]*command, error) {
	cmds := []*command{
		{name: "help", usage: "help [command]", summary: "what trainbot does and how to ask it", who: "anyone", run: runHelp},
		{name: "calendar", usage: "calendar", summary: "the next four trains, quiet windows and recent hotfixes", who: "anyone", run: runCalendar},
		{name: "cut", usage: "cut dev|staging [--force] [--dry-run]", summary: "cut a train now (--dry-run previews it; --force promotes staging without missing hotfixes)", who: "releasers (anyone with --dry-run)", run: runCut},
		{name: "hotfix", usage: "hotfix <sha|branch> <reason> [--dry-run]", summary: "tag and deploy a commit now, even in a quiet window", who: "releasers, validators, or the next train's on-call", run: runHotfix},
		{name: "approve", usage: "approve <train> [<dev tag>]", summary: "sign off what a staging train would ship, e.g. next-staging or staging-2026-12-09; naming the dev tag you saw refuses the approval if the candidate has changed", who: "validators", run: runApprove},
		{name: "confirm", usage: "confirm <train>", summary: "say you are on a train (the I'm on it button); an unconfirmed train is skipped", who: "the train's on-call or releasers", run: runConfirm},
		{name: "skip", usage: "skip <train> [reason]", summary: "skip a coming train (the Skip button)", who: "the train's on-call or releasers", run: runSkip},
		{name: "pause", usage: "pause [<duration>|until <time>|from <time> until <time>] <reason>", summary: "hold trains for a quiet window; alone, list the windows (times in UTC: 2026-12-02T18:00Z or 2026-12-02 18:00)", who: "chain ops or releasers (anyone to list)", run: runPause},
		{name: "resume", usage: "resume", summary: "end the active quiet window now", who: "chain ops or releasers", run: runResume},
		{name: "oncall", usage: "oncall [rotation @a @b … | set <train> @x | swap @a @b]", summary: "show or change who is on call for each train", who: "anyone to show; releasers to change", run: runOnCall},
		{name: "line", usage: "line <X.Y.Z>", summary: "start a new release line for the next dev train", who: "releasers", run: runLine},
		{name: "changes", usage: "changes <tag>", summary: "the commits a train tag shipped", who: "anyone", run: runChanges},
		{name: "history", usage: "history [N]", summary: "the last N trains (10)", who: "anyone", run: runHistory},
		{name: "stats", usage: "stats [Nd]", summary: "the RFC's success metrics over N days (30)", who: "anyone", run: runStats},
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		if seen[c.name] {
			return nil, fmt.Errorf("command %q is defined twice", c.name)
		}
		seen[c.name] = true
	}
	return cmds, nil
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
	return trains.Text{trains.T("Usage: "), trains.C("/train " + c.usage)}
}

// helpMessage lists every command, or explains one.
func (h *Commands) helpMessage(one *command) trains.Message {
	if one != nil {
		return trains.Message{Blocks: []trains.Block{
			{Kind: trains.Section, Text: trains.Text{trains.C("/train " + one.usage), trains.T(" — " + one.summary + ".")}},
			{Kind: trains.Context, Text: trains.Text{trains.T("Who: " + one.who + ".")}},
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
		lines = append(lines, trains.C("/train "+c.usage), trains.T(" — "+c.summary))
	}
	m.Blocks = append(m.Blocks, trains.Block{Kind: trains.Section, Text: lines},
		trains.Block{Kind: trains.Context, Text: trains.Text{trains.T("Trains: next, next-dev, next-staging, or an id such as dev-2026-12-01. Mention people as @name. "), trains.C("/train help <command>"), trains.T(" says who may run it.")}})
	return m
}
