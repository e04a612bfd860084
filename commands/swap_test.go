package commands_test

import "testing"

// The swap reply lists the two trains in time order, whichever person is
// named first, and says the same every time: it once ranged over a map,
// so the two trains came in either order.
func TestOnCallSwapReplyInTimeOrder(t *testing.T) {
	t.Parallel()
	const want = "🔁 Swapped: dev-2026-12-01 → <@UCAT>; staging-2026-12-09 → <@UANA>"
	for _, swap := range []string{"oncall swap <@UANA> <@UCAT>", "oncall swap <@UCAT> <@UANA>"} {
		t.Run(swap, func(t *testing.T) {
			t.Parallel()
			// Each swap from the same rotation, many times: map order would
			// show within a few runs.
			for range 20 {
				h := newHarness(t, "2026-11-25 15:00")
				if got, refused := h.do(t, releaser, "oncall rotation <@UANA> <@UBOB> <@UCAT>"); refused {
					t.Fatalf("rotation refused: %s", got)
				}
				got, refused := h.do(t, releaser, swap)
				if refused || got != want {
					t.Fatalf("%s replied (refused %v):\n%s\nwant:\n%s", swap, refused, got, want)
				}
			}
		})
	}
}
