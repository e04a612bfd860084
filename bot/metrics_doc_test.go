package bot

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trainbot/trainbot/commands"
)

// describer is a Registerer that registers on a real registry and keeps
// the description of every metric registered, series or not.
type describer struct {
	*prometheus.Registry
	descs []*prometheus.Desc
}

func (d *describer) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		d.descs = append(d.descs, desc)
	}
	return d.Registry.Register(c)
}

func (d *describer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

var (
	descName   = regexp.MustCompile(`fqName: "([^"]+)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
)

// docs/metrics.md has a row for every metric NewMetrics registers, naming
// each of its labels.
func TestMetricsAreDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok {
			name, _, _ = strings.Cut(name, "`")
			rows[name] = line
		}
	}
	reg := &describer{Registry: prometheus.NewRegistry()}
	NewMetrics(reg, "v1.0.0", "abc123", commands.Names()...)
	if len(reg.descs) == 0 {
		t.Fatal("NewMetrics registered nothing")
	}
	for _, desc := range reg.descs {
		s := desc.String()
		m := descName.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("cannot read the metric's name from %s", s)
		}
		row, ok := rows[m[1]]
		if !ok {
			t.Errorf("docs/metrics.md has no row for %s: add one with its type, labels and meaning (%s)", m[1], s)
			continue
		}
		if l := descLabels.FindStringSubmatch(s); l != nil && l[1] != "" {
			for _, label := range strings.Split(l[1], ",") {
				if label = strings.TrimSpace(label); !strings.Contains(row, "`"+label+"`") {
					t.Errorf("docs/metrics.md does not name the label %s of %s", label, m[1])
				}
			}
		}
	}
}
