package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// Deps are what the commands work with.
type Deps struct {
	Service *trains.Service
	Log     *slog.Logger
	// Observe, if set, is called once for each request Handle answers,
	// with the name of the command it ran (one of Names; "help" for empty
	// text), or "" when the text named no command, and how long it took:
	// from the request's Received time to the reply being ready. It feeds
	// trainbot_command_duration_seconds (bot.Metrics.ObserveCommand).
	Observe func(command string, took time.Duration)
}

// Commands runs /train commands: it implements Handler.
type Commands struct {
	deps Deps
	cmds []*command
}

var _ Handler = (*Commands)(nil)

// New returns the commands. It fails when the command table is malformed.
func New(deps Deps) (*Commands, error) {
	cmds := table()
	if err := checkTable(cmds); err != nil {
		return nil, err
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return &Commands{deps: deps, cmds: cmds}, nil
}

// maxText is the longest command text read; longer text is refused.
const maxText = 4000

// Handle parses and runs one request and says how it went.
func (h *Commands) Handle(ctx context.Context, r Request) Reply {
	start := r.Received
	if start.IsZero() {
		start = time.Now()
	}
	text := strings.TrimSpace(r.Text)
	name := "" // no command, until one is found
	defer func() {
		if h.deps.Observe != nil {
			h.deps.Observe(name, time.Since(start))
		}
	}()
	if len(text) > maxText {
		return refused(trains.Say(trains.T("That is too long for a command ("+strconv.Itoa(len(text))+" characters; at most "+strconv.Itoa(maxText)+"). Try "), trains.C("/train help"), trains.T(".")))
	}
	toks := tokenize(text)
	if len(toks) == 0 {
		name = "help"
		return Reply{Message: h.helpMessage(nil)}
	}
	cmd := h.find(strings.ToLower(toks[0].text))
	if cmd == nil {
		msg := trains.Text{trains.T("I don't know the command "), trains.C(humanText(toks[0].text)), trains.T(".")}
		if near := h.nearest(toks[0].text); near != nil {
			msg = append(msg, trains.T(" Did you mean "), trains.C(near.name), trains.T("? "))
			msg = append(msg, usageText(near)...)
		} else {
			msg = append(msg, trains.T(" See "), trains.C("/train help"), trains.T("."))
		}
		return refused(trains.Say(msg...))
	}
	name = cmd.name
	c := &call{h: h, cmd: cmd, req: r, text: text}
	log := h.deps.Log.With("user", r.User, "command", cmd.name)
	args, set, err := parseFlags(cmd, toks[1:])
	if err != nil {
		return h.explain(c, log, c.usage("%v", err))
	}
	c.args, c.set = args, set
	m, err := cmd.run(ctx, c)
	if err == nil {
		return Reply{Message: m}
	}
	return h.explain(c, log, err)
}

// explain turns an error into the reply the user sees.
func (h *Commands) explain(c *call, log *slog.Logger, err error) Reply {
	var ue *usageError
	var dc *declined
	var te *trains.UserError
	var tc *trains.TagConflictError
	var ce *trains.UnclearError
	switch {
	case errors.As(err, &dc):
		return refused(dc.m)
	case errors.As(err, &ue):
		return refused(trains.Message{Blocks: []trains.Block{
			{Kind: trains.Section, Text: trains.Text{trains.T(ue.why)}},
			{Kind: trains.Context, Text: usageText(ue.cmd)},
		}})
	case errors.Is(err, trains.ErrRoleUnknown): // a role read outside the use cases' checks
		log.Warn("refused: role cannot be checked", "err", err)
		return refused(trains.Say(trains.T("🚫 " + err.Error() + ". Nothing was changed.")))
	case errors.As(err, &te):
		if te.Forbidden {
			log.Info("refused: role", "why", te.Error())
		}
		return refused(trains.Say(te.Text...))
	case errors.As(err, &ce):
		log.Warn("the state store did not confirm a change", "err", err)
		return Reply{Message: trains.Say(ce.Text...)}
	case errors.Is(err, trains.ErrUnclear):
		log.Warn("the state store did not confirm a change", "err", err)
		return Reply{Message: trains.Say(trains.T("⚠️ The state store did not confirm the change, so it may have been made. Check "),
			trains.C(checkWith(c.cmd.name)), trains.T(" before trying again; trainbot reconnects by itself."))}
	case errors.Is(err, trains.ErrUnavailable):
		log.Warn("state store unavailable", "err", err)
		return refused(UnavailableReply())
	case errors.As(err, &tc), errors.Is(err, trains.ErrRefused), errors.Is(err, trains.ErrRunNotFound), errors.Is(err, trains.ErrNotFound):
		log.Warn("command failed", "err", err)
		return refused(trains.Say(trains.T("⚠️ " + err.Error())))
	}
	ref := NewRef()
	log.Error("command failed", "ref", ref, "err", err)
	return refused(trains.Say(trains.T("Something went wrong (ref "+ref+"): the details are in trainbot's log under that ref. "+
		"If a cut was under way it continues or resumes by itself; check "), trains.C("/train history"), trains.T(".")))
}

// checkWith names the command that shows whether a change of the command
// named name was made.
func checkWith(name string) string {
	switch name {
	case "approve", "confirm", "skip", "line":
		return "/train calendar"
	case "pause", "resume":
		return "/train pause"
	case "oncall":
		return "/train oncall"
	}
	return "/train history"
}

// declined is a command that ran and changed nothing (a paused calendar,
// a held lock, a missing sign-off): a result, told as a refusal.
type declined struct{ m trains.Message }

func (d *declined) Error() string { return d.m.Plain() }

// refused is a reply to a command that changed nothing.
func refused(m trains.Message) Reply { return Reply{Message: m, Refused: true} }

// NewRef is a short random reference that ties an error shown to a user
// ("something went wrong (ref 7f3a)") to its line in the log.
func NewRef() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
