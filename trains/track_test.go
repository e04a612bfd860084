package trains

import "testing"

func TestTrackTitle(t *testing.T) {
	t.Parallel()
	for tr, want := range map[Track]string{Dev: "Dev train", Staging: "Staging train", Hotfix: "Hotfix", "": " train"} {
		if got := tr.Title(); got != want {
			t.Errorf("Track(%q).Title() = %q, want %q", tr, got, want)
		}
	}
}
