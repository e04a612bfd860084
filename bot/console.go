package bot

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/trains"
)

// DefaultConsoleChannel is the channel a console command is asked in when
// Console.Channel is empty.
const DefaultConsoleChannel = "console"

// Console runs /train commands typed in a terminal as one configured user
// (`trainbot console`, SPEC §8) and prints the replies as plain text. Use
// it through a pointer; Announcer gives the ConsoleAnnouncer that prints
// channel posts to the same output without mixing lines.
type Console struct {
	// In is read line by line: `/train cut dev` or `cut dev`; `exit`,
	// `quit` or the end of input stop.
	In io.Reader
	// Out gets the prompt, the replies and the announcements.
	Out io.Writer
	// User is the Slack user id commands run as.
	User string
	// Channel is the channel commands are asked in (DefaultConsoleChannel
	// when empty).
	Channel string
	// Handler runs the commands.
	Handler commands.Handler
	// Prompt is printed before each line is read ("trainbot> " when empty).
	Prompt string

	mu sync.Mutex // serialises writes to Out
}

// Announcer returns a ConsoleAnnouncer printing posts to channel on the
// console's output.
func (c *Console) Announcer(channel string) *ConsoleAnnouncer {
	return &ConsoleAnnouncer{Out: c.Out, Channel: channel, lock: &c.mu}
}

func (c *Console) print(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.Out, s)
}

// Run reads commands until exit, quit or the end of input (returning nil)
// or until ctx ends (returning its error). Each runs to completion before
// the next is read.
func (c *Console) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx) // also ends the reader on exit
	defer stop()
	prompt := c.Prompt
	if prompt == "" {
		prompt = "trainbot> "
	}
	channel := c.Channel
	if channel == "" {
		channel = DefaultConsoleChannel
	}
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(c.In)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		c.print(prompt)
		var line string
		select {
		case <-ctx.Done():
			c.print("\n")
			return ctx.Err()
		case err := <-readErr:
			c.print("\n")
			if err != nil {
				return fmt.Errorf("read the console input: %w", err)
			}
			return nil
		case line = <-lines:
		}
		text, ok := consoleCommand(line)
		if !ok {
			return nil
		}
		if text == "" && strings.TrimSpace(line) == "" {
			continue
		}
		reply := c.Handler.Handle(ctx, commands.Request{User: c.User, Text: slackEscape(text), Channel: channel})
		out := reply.Message.Plain()
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		c.print(out)
	}
}

// consoleCommand turns a typed line into the text after /train; ok is
// false for exit and quit.
func consoleCommand(line string) (text string, ok bool) {
	line = strings.TrimSpace(line)
	switch strings.ToLower(line) {
	case "exit", "quit", "/exit", "/quit":
		return "", false
	}
	if rest, found := strings.CutPrefix(line, "/train"); found && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		line = strings.TrimSpace(rest)
	}
	return line, true
}

// slackToken matches what Slack leaves unescaped in a command's text:
// user, channel and user-group mentions.
var slackToken = regexp.MustCompile(`<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|!subteam\^S[A-Z0-9]+)(?:\|[^<>]*)?>`)

// slackEscape escapes typed text as Slack does with escaping on, keeping
// mentions typed as <@U123>.
func slackEscape(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range slackToken.FindAllStringIndex(s, -1) {
		b.WriteString(escape(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(escape(s[last:]))
	return b.String()
}

// ConsoleAnnouncer prints channel posts readably instead of posting them:
//
//	#rel [1] ▸ dev train v0.5.0-dev.4 cut
//	  ↳ [1] tag created
//	✎ [1] dev train v0.5.0-dev.4 deployed
//
// It returns synthetic, increasing MessageRefs and is safe for concurrent
// use. The zero value prints to nowhere; set Out (and Channel).
type ConsoleAnnouncer struct {
	Out     io.Writer
	Channel string

	lock sync.Locker // shared with a Console, else &own
	own  sync.Mutex
	n    int // guarded by own
	nums map[string]int
}

var _ trains.Announcer = (*ConsoleAnnouncer)(nil)

// Post prints m as a new channel message.
func (a *ConsoleAnnouncer) Post(_ context.Context, m trains.Message) (trains.MessageRef, error) {
	ref, n := a.next()
	a.write(fmt.Sprintf("#%s [%d] ▸ ", a.channelName(), n), m)
	return ref, nil
}

// Reply prints m indented under its parent.
func (a *ConsoleAnnouncer) Reply(_ context.Context, parent trains.MessageRef, m trains.Message) (trains.MessageRef, error) {
	ref, _ := a.next()
	a.write(fmt.Sprintf("  ↳ [%d] ", a.number(parent)), m)
	return ref, nil
}

// Edit prints m as the new text of the message at ref.
func (a *ConsoleAnnouncer) Edit(_ context.Context, ref trains.MessageRef, m trains.Message) error {
	a.write(fmt.Sprintf("✎ [%d] ", a.number(ref)), m)
	return nil
}

func (a *ConsoleAnnouncer) channelName() string {
	if a.Channel == "" {
		return "channel"
	}
	return strings.TrimPrefix(a.Channel, "#")
}

func (a *ConsoleAnnouncer) next() (trains.MessageRef, int) {
	a.own.Lock()
	defer a.own.Unlock()
	a.n++
	ref := trains.MessageRef{Channel: a.Channel, TS: fmt.Sprintf("1.%06d", a.n)}
	if a.nums == nil {
		a.nums = map[string]int{}
	}
	a.nums[ref.TS] = a.n
	return ref, a.n
}

func (a *ConsoleAnnouncer) number(ref trains.MessageRef) int {
	a.own.Lock()
	defer a.own.Unlock()
	return a.nums[ref.TS]
}

// write prints m with prefix on its first line and the next lines
// indented under it.
func (a *ConsoleAnnouncer) write(prefix string, m trains.Message) {
	if a.Out == nil {
		return
	}
	indent := strings.Repeat(" ", len([]rune(prefix)))
	lines := strings.Split(strings.TrimRight(m.Plain(), "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(prefix)
		} else {
			b.WriteString(indent)
		}
		b.WriteString(l)
		b.WriteString("\n")
	}
	lock := a.lock
	if lock == nil {
		lock = &a.own
	}
	lock.Lock()
	defer lock.Unlock()
	_, _ = io.WriteString(a.Out, b.String())
}
