package bot

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// TestEnvelopeClaimReplyLostStillRuns: Redis applies the envelope's
// claim and the reply is lost. The store settles it (the claim is this
// call's), so the command runs — once: a redelivery is then ignored.
func TestEnvelopeClaimReplyLostStillRuns(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	store, proxy, r := proxiedStore(t)
	h := newRecorder()
	b := startBot(t, Config{Workers: 1}, h, store)

	env := b.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev"})
	fired := proxy.DropReplyAfter(func(cmd []string) bool { return slices.Contains(cmd, r.Prefix+"claim:envelope:"+env.ID) })
	if _, err := b.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, b.fake, env.ResponseURL, "done: `cut dev`")
	<-fired
	if _, err := b.fake.Deliver(ctx, env.Retry("timeout")); err != nil {
		t.Fatal(err)
	}
	later := b.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U02", ChannelID: "C0CHANNEL1", Text: "history"})
	if _, err := b.fake.Deliver(ctx, later); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, b.fake, later.ResponseURL, "done: `history`")
	var texts []string
	for _, req := range h.requests() {
		texts = append(texts, req.Text)
	}
	if diff := cmp.Diff([]string{"cut dev", "history"}, texts); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
}

// TestUnconfirmedEnvelopeClaimDoesNotSwallowTheRedelivery: the claim is
// applied, its reply lost, and Redis is then cut off, so the store cannot
// settle it. The bot does not run the command and says so (not "nothing
// was changed"); the claim it may hold must not make Slack's redelivery be
// ignored once Redis is back: the redelivery runs, once.
func TestUnconfirmedEnvelopeClaimDoesNotSwallowTheRedelivery(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	store, proxy, r := proxiedStore(t)
	h := newRecorder()
	b := startBot(t, Config{Workers: 1}, h, store)

	env := b.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "cut dev"})
	key := r.Prefix + "claim:envelope:" + env.ID
	// Blocked as the claim goes out: the store cannot read it back.
	proxy.DropReplyAfterAndBlock(func(cmd []string) bool { return slices.Contains(cmd, key) })
	if _, err := b.fake.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	p := waitReply(t, ctx, b.fake, env.ResponseURL, UnconfirmedText)
	if containsText(p.Text, p.Blocks, "nothing was changed") {
		t.Errorf("the reply says nothing was changed: %s", p.Text)
	}
	if n, err := r.Client.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("the claim is not in Redis (%d, %v): the test did not make it unclear", n, err)
	}
	if reqs := h.requests(); len(reqs) != 0 {
		t.Fatalf("the handler ran on an unconfirmed claim: %+v", reqs)
	}

	proxy.Unblock()
	retry := env.Retry("timeout")
	if _, err := b.fake.Deliver(ctx, retry); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, b.fake, env.ResponseURL, "done: `cut dev`")
	if _, err := b.fake.Deliver(ctx, env.Retry("timeout")); err != nil { // a third delivery: handled already
		t.Fatal(err)
	}
	later := b.fake.NewSlashCommand(slackfake.SlashCommand{UserID: "U02", ChannelID: "C0CHANNEL1", Text: "history"})
	if _, err := b.fake.Deliver(ctx, later); err != nil {
		t.Fatal(err)
	}
	waitReply(t, ctx, b.fake, later.ResponseURL, "done: `history`")
	var texts []string
	for _, req := range h.requests() {
		texts = append(texts, req.Text)
	}
	if diff := cmp.Diff([]string{"cut dev", "history"}, texts); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
}
