package deploy

import (
	"strings"
	"testing"
)

// TestNewClientNeverShowsTheURL: a GITHUB_API_URL that does not parse is
// refused without echoing it, as it may hold a token.
func TestNewClientNeverShowsTheURL(t *testing.T) {
	t.Parallel()
	for _, apiURL := range []string{
		"https://x-access-token:ghp_s3cret@ghe.example.com/api/v3/\x7f",
		"https://ghe.example.com:ghp_s3cret/api/v3/",
	} {
		_, err := NewClient("token", apiURL, nil)
		if err == nil || !strings.Contains(err.Error(), "GITHUB_API_URL") {
			t.Errorf("got %v, want an error naming GITHUB_API_URL", err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}
