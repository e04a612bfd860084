package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

func runCut(ctx context.Context, c *call) (trains.Message, error) {
	words := c.args
	if len(words) != 1 {
		return trains.Message{}, c.usage("Say which track to cut: dev or staging.")
	}
	track, err := trains.ParseTrack(strings.ToLower(words[0].text))
	if err != nil || !track.Scheduled() {
		return trains.Message{}, c.usage("%q is not dev or staging (a hotfix is /train hotfix).", humanText(words[0].text))
	}
	res, err := c.h.deps.Service.Cut(ctx, trains.CutRequest{Track: track, By: c.req.User, Force: c.given("force"), DryRun: c.given(dryRun.name)})
	if err != nil {
		return trains.Message{}, err
	}
	switch res.Outcome {
	case trains.CutStarted, trains.CutPreview, trains.CutRunning:
		return cutReply(res), nil
	}
	return trains.Message{}, &declined{cutReply(res)}
}

func runHotfix(ctx context.Context, c *call) (trains.Message, error) {
	words := c.args
	if len(words) < 2 {
		return trains.Message{}, c.usage("Say what to ship and why: a commit sha or branch, then a reason.")
	}
	ref := humanText(words[0].text)
	reason := humanText(c.rest(1))
	res, err := c.h.deps.Service.Hotfix(ctx, trains.HotfixRequest{Ref: ref, Reason: reason, By: c.req.User,
		Force: c.given("force"), DryRun: c.given(dryRun.name)})
	if err != nil {
		return trains.Message{}, err
	}
	switch res.Outcome {
	case trains.CutBusy, trains.CutExtraCommits:
		return trains.Message{}, &declined{hotfixReply(res, ref)}
	}
	return hotfixReply(res, ref), nil
}

// trainArg returns the train a command names as its first word.
func trainArg(c *call) (string, error) {
	if len(c.args) == 0 {
		return "", c.usage("Say which train: next, next-dev, next-staging, or an id such as staging-2026-12-09.")
	}
	return strings.ToLower(c.args[0].text), nil
}

func runApprove(ctx context.Context, c *call) (trains.Message, error) {
	ref, err := trainArg(c)
	if err != nil {
		return trains.Message{}, err
	}
	if len(c.args) > 2 {
		return trains.Message{}, c.usage("Approve takes one train, and optionally the candidate you saw (its dev tag).")
	}
	res, err := c.h.deps.Service.Approve(ctx, trains.ApproveRequest{By: c.req.User, Train: ref, Saw: c.arg(1)})
	if err != nil {
		return trains.Message{}, err
	}
	return signOffReply("approved", res), nil
}

func runConfirm(ctx context.Context, c *call) (trains.Message, error) {
	ref, err := trainArg(c)
	if err != nil {
		return trains.Message{}, err
	}
	res, err := c.h.deps.Service.Confirm(ctx, c.req.User, ref)
	if err != nil {
		return trains.Message{}, err
	}
	return signOffReply("confirmed", res), nil
}

func runSkip(ctx context.Context, c *call) (trains.Message, error) {
	ref, err := trainArg(c)
	if err != nil {
		return trains.Message{}, err
	}
	t, err := c.h.deps.Service.Skip(ctx, c.req.User, ref, humanText(c.rest(1)))
	if err != nil {
		return trains.Message{}, err
	}
	return trains.Say(trains.T("⏭️ " + string(t.ID) + " is skipped; the channel was told.")), nil
}

func signOffReply(what string, r trains.SignOffResult) trains.Message {
	text := trains.Text{trains.T("👍 You " + what + " ")}
	if !r.Added {
		text = trains.Text{trains.T("You had already " + what + " ")}
	}
	if r.Candidate.Promotes != "" {
		text = append(text, trains.C(r.Candidate.Promotes), trains.T(" on "), trains.C(trains.ShortSHA(r.Candidate.Commit)), trains.T(" for "))
	}
	text = append(text, trains.T(string(r.Train.ID)))
	if r.Candidate.Tag != "" {
		text = append(text, trains.T(" (it would be tagged "), trains.C(r.Candidate.Tag), trains.T(")"))
	}
	if len(r.Candidate.Without) > 0 {
		text = append(text, trains.T(" — ⚠️ without hotfix "+strings.Join(r.Candidate.Without, ", ")+", so only a forced cut ships it"))
	}
	text = append(text, trains.T("."))
	if !r.Added {
		text = append(text, trains.T(" It counts once."))
	}
	if r.Train.Track == trains.Staging {
		text = append(text, trains.T(fmt.Sprintf(" Approvals of this candidate: %d of %d needed", len(r.Approvals), r.Need)))
		for i, a := range r.Approvals {
			sep := ", "
			if i == 0 {
				sep = " ("
			}
			text = append(text, trains.T(sep), trains.U(a.User))
		}
		if len(r.Approvals) > 0 {
			text = append(text, trains.T(")"))
		}
		text = append(text, trains.T(". The person who cuts it cannot approve it; a new candidate needs new approvals."))
	}
	return trains.Say(text...)
}
