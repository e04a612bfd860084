package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/trainbot/trainbot/trains"
)

// This file holds the commands for a train that went wrong (issue 13):
// retry, the Retry deploy button's, and rollback, the Roll back button's.

func runRetry(ctx context.Context, c *call) (trains.Message, error) {
	ref, err := trainArg(c)
	if err != nil {
		return trains.Message{}, err
	}
	if len(c.args) > 1 {
		return trains.Message{}, c.usage("Retry takes one train, e.g. staging-2026-12-02.")
	}
	res, err := c.h.deps.Service.Retry(ctx, trains.RetryRequest{Train: ref, By: c.req.User})
	if err != nil {
		return trains.Message{}, err
	}
	t := res.Train
	switch res.Outcome {
	case trains.RetryAlready:
		return trains.Message{}, &declined{trains.Say(trains.T(fmt.Sprintf("Attempt %d of %s was already retried (a second click counts once); follow it in its thread. Nothing more was dispatched.",
			t.Attempt(), t.ID)))}
	case trains.RetryBusy:
		return trains.Message{}, &declined{trains.Say(trains.T("Another " + string(t.Track) + " train is on its way; retry when it is out. Nothing was dispatched."))}
	}
	return trains.Say(trains.T(fmt.Sprintf("🔁 Retrying %s: attempt %d deploys ", t.ID, t.Attempt())), trains.C(t.Tag),
		trains.T(" again; follow it in its thread.")), nil
}

func runRollback(ctx context.Context, c *call) (trains.Message, error) {
	if len(c.args) < 2 {
		return trains.Message{}, c.usage("Say which environment to roll back and why: dev or staging, then a reason.")
	}
	track, from, err := rollbackTarget(c.args[0].text)
	if err != nil {
		return trains.Message{}, c.usage("%q is not dev, staging or a train tag such as v0.5.0-staging.2 (hotfixes deploy to staging: roll back staging).", humanText(c.args[0].text))
	}
	res, err := c.h.deps.Service.Rollback(ctx, trains.RollbackRequest{Track: track, From: from, Reason: humanText(c.rest(1)), By: c.req.User,
		DryRun: c.given(dryRun.name)})
	if err != nil {
		return trains.Message{}, err
	}
	if res.Outcome == trains.RollbackBusy {
		return trains.Message{}, &declined{trains.Say(trains.T("A " + string(track) + " train is on its way; roll back when it is out, or once it has failed. Nothing was done."))}
	}
	return rollbackReply(res), nil
}

// rollbackTarget reads what a rollback names: an environment (dev or
// staging), or the train tag to roll back from (the Roll back button's),
// whose track's environment is rolled back only while it runs that tag.
func rollbackTarget(word string) (track trains.Track, from string, err error) {
	if tag, terr := trains.ParseTag(word); terr == nil {
		track = tag.Track
		if track == trains.Hotfix {
			track = trains.Staging
		}
		return track, tag.String(), nil
	}
	track, err = trains.ParseTrack(strings.ToLower(word))
	if err == nil && !track.Scheduled() {
		err = fmt.Errorf("%s is not an environment", track)
	}
	return track, "", err
}

// maxOutShown is how many of the commits a rollback takes out a preview lists.
const maxOutShown = 10

// rollbackReply tells the caller what a rollback does, or would do.
func rollbackReply(r trains.RollbackResult) trains.Message {
	if r.Outcome == trains.RollbackPreview {
		text := trains.Text{trains.T("Dry run: a rollback would deploy "), trains.C(r.Previous.Tag), trains.T(" on "), trains.C(trains.ShortSHA(r.Commit.SHA))}
		if t := r.Commit.Title(); t != "" {
			text = append(text, trains.T(" ("+t+")"))
		}
		text = append(text, trains.T(" again, in place of "), trains.C(r.Current.Tag),
			trains.T(fmt.Sprintf(", taking back out %d %s", r.Out.Total, trains.Plural(r.Out.Total, "commit", "commits"))))
		if r.Out.URL != "" {
			text = append(text, trains.T(" ("), trains.L("compare", r.Out.URL), trains.T(")"))
		}
		text = append(text, trains.T(":"))
		out := r.Out.Commits
		for i := len(out) - 1; i >= 0 && i >= len(out)-maxOutShown; i-- {
			text = append(text, trains.T("\n• "), trains.C(trains.ShortSHA(out[i].SHA)), trains.T(" "+out[i].Title()))
		}
		if len(out) == 0 {
			text = append(text, trains.T(" none."))
		} else if r.Out.Total > maxOutShown {
			text = append(text, trains.T(fmt.Sprintf("\n… and %d more.", r.Out.Total-maxOutShown)))
		}
		if r.InWindow() {
			text = append(text, trains.T("\n⚠️ A quiet window is active: the rollback would go out anyway, and say so loudly."))
		}
		text = append(text, trains.T("\nNothing was changed."))
		return trains.Say(text...)
	}
	t := r.Train
	env := t.Track.Environment()
	text := trains.Text{trains.T("↩️ Rollback " + string(t.ID) + ": deploying "), trains.C(t.Tag), trains.T(" to " + env + " again, in place of "),
		trains.C(t.RollsBack), trains.T(fmt.Sprintf(" (%d %s taken back out). Follow it in the channel.", r.Out.Total, trains.Plural(r.Out.Total, "commit", "commits")))}
	if r.InWindow() {
		text = append(text, trains.T(" ⚠️ Trains are paused (“"+r.Window.Reason+"”); the rollback goes out anyway and the channel was warned."))
	}
	return trains.Say(text...)
}
