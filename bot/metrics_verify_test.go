package bot

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trainbot/trainbot/trains"
)

// The service counts verifications through its Observer when the Observer
// is also a VerifyObserver, as *Metrics is.
var _ trains.VerifyObserver = (*Metrics)(nil)

func TestMetricsCountVerifications(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "v1", "c1")
	m.TrainVerified("staging", "verified")
	m.TrainVerified("staging", "verified")
	m.TrainVerified("dev", "unverified")
	var nilMetrics *Metrics
	nilMetrics.TrainVerified("dev", "verified") // a nil *Metrics records nothing
	_, body := get(t, NewHTTPHandler(HTTPConfig{Gatherer: reg}), "/metrics")
	for _, want := range []string{
		`trainbot_train_verifications_total{result="verified",track="staging"} 2`,
		`trainbot_train_verifications_total{result="unverified",track="dev"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	// Every track's series start at 0 (for increase() in the alert rules);
	// the nil *Metrics's call left dev's verified at 0.
	if !strings.Contains(body, `trainbot_train_verifications_total{result="verified",track="dev"} 0`) {
		t.Errorf("the nil *Metrics counted, or dev's series is not there from the start:\n%s", body)
	}
}
