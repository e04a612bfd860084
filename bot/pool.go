package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/trains"
)

// Replies the bot itself gives.
const (
	// BusyText answers a command when the queue is full.
	BusyText = "trainbot is busy, try again in a minute."
	// UnconfirmedText answers a command whose envelope the state store
	// could not confirm claiming (trains.ErrUnclear): the command did not
	// run. The store gives the claim back, so a redelivery runs.
	UnconfirmedText = "the state store did not answer in time, so this command did not run. Try again in a minute."
	// RestartingText answers a command still queued when trainbot stops.
	RestartingText = "trainbot is restarting — nothing was changed. Try again in a minute."
)

// runPool runs the queued commands until the queue is closed, then waits
// for the running ones. It is elastic: one command runs at a time while
// commands are quick, so that a burst of them does not take the CPU from
// the event loop that acks envelopes; when a queued command has waited
// StallAfter behind busy workers (they wait on GitHub or Slack, not on
// the CPU), another worker joins, up to Workers, so that a slow command
// does not hold every other reply. When the pool is idle it is back to one.
func (b *Bot) runPool(workCtx context.Context) {
	var running sync.WaitGroup
	done := make(chan struct{}, b.cfg.Workers)
	active, allowed := 0, 1
	finished := func() {
		active--
		if active == 0 {
			allowed = 1
		}
	}
	for j := range b.queue {
		for {
			// Count the workers that finished meanwhile.
			for reaped := true; reaped; {
				select {
				case <-done:
					finished()
				default:
					reaped = false
				}
			}
			if active < allowed {
				active++
				running.Go(func() {
					b.process(workCtx, j)
					done <- struct{}{}
				})
				break
			}
			stall := time.NewTimer(b.cfg.StallAfter)
			select {
			case <-done:
				finished()
			case <-stall.C:
				if allowed < b.cfg.Workers {
					allowed++
					b.log.Debug("commands are waiting on busy workers: adding one", "workers", allowed)
				}
			}
			stall.Stop()
		}
	}
	running.Wait()
}

// process runs one command on a worker: claim the envelope, run the
// handler, send the reply.
func (b *Bot) process(workCtx context.Context, j job) {
	log := b.log.With("user", j.req.User, "envelope", j.envelopeID, "channel", j.req.Channel)
	if j.req.Button != "" {
		log = log.With("button", j.req.Button)
	}
	if workCtx.Err() != nil {
		// Stopped before this command started: say so, briefly.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(workCtx), time.Second)
		defer cancel()
		b.reply(ctx, log, j, trains.Say(trains.T(RestartingText)))
		return
	}
	ctx, cancel := context.WithTimeout(workCtx, b.cfg.CommandTimeout)
	defer cancel()

	first, err := b.store.Claim(ctx, "envelope:"+j.envelopeID, b.cfg.DedupeTTL)
	if err != nil {
		// trainbot_store_errors_total is counted by the store itself (storage.Config.OnError).
		if errorsIsUnavailable(err) {
			log.Warn("state store unavailable: command not run", "err", err)
			b.reply(ctx, log, j, commands.UnavailableReply())
			return
		}
		if errors.Is(err, trains.ErrUnclear) {
			// The claim may be held, with this command not run: the store
			// gives it back (trains.Store.Claim), so Slack's redelivery is
			// not ignored as already handled.
			log.Warn("the state store did not confirm the envelope's claim: command not run", "err", err, "retry_attempt", j.retry)
			b.reply(ctx, log, j, trains.Say(trains.T(UnconfirmedText)))
			return
		}
		ref := commands.NewRef()
		log.Error("claiming the envelope failed: command not run", "ref", ref, "err", err)
		b.reply(ctx, log, j, somethingWentWrong(ref))
		return
	}
	if !first {
		log.Info("envelope already handled: ignoring the redelivery", "retry_attempt", j.retry)
		return
	}

	// The handler records the command's duration, labelled with the
	// command it ran (commands.Deps.Observe, from j.req.Received): the
	// bot does not, so that each command is counted once.
	reply := b.handle(ctx, log, j.req)
	b.reply(ctx, log, j, reply.Message)
	log.Debug("command done", "refused", reply.Refused, "took", time.Since(j.req.Received))
}

// handle runs the handler, turning a panic into a reply with a reference.
func (b *Bot) handle(ctx context.Context, log *slog.Logger, req commands.Request) (reply commands.Reply) {
	defer func() {
		if p := recover(); p != nil {
			ref := commands.NewRef()
			log.Error("command panicked", "ref", ref, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			reply = commands.Reply{Message: somethingWentWrong(ref)}
		}
	}()
	return b.handler.Handle(ctx, req)
}

func somethingWentWrong(ref string) trains.Message {
	return trains.Say(trains.T("something went wrong (ref " + ref + ")."))
}
