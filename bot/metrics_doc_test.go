package bot

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v4"

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

var (
	ruleMetric  = regexp.MustCompile(`trainbot_[a-z_]+`)
	ruleSelect  = regexp.MustCompile(`(trainbot_[a-z_]+)\{([^}]*)\}`)
	ruleMatcher = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"([^"]*)"`)
)

// Every metric docs/prometheus-rules.yaml reads is one NewMetrics
// registers, and every label value its selectors fix (outcome="failed")
// is one of a series NewMetrics creates from the start: a renamed metric
// or label value would leave an alert that silently never fires.
func TestAlertRulesReadRegisteredMetrics(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "docs", "prometheus-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatalf("docs/prometheus-rules.yaml: %v", err)
	}
	var exprs []string // the expressions only: the annotations may name anything
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	text := strings.Join(exprs, "\n")

	reg := &describer{Registry: prometheus.NewRegistry()}
	NewMetrics(reg, "v1.0.0", "abc123", commands.Names()...)
	registered := map[string]bool{}
	for _, desc := range reg.descs {
		if m := descName.FindStringSubmatch(desc.String()); m != nil {
			registered[m[1]] = true
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]bool{} // "metric label" → the values of its series
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				k := f.GetName() + " " + l.GetName()
				if values[k] == nil {
					values[k] = map[string]bool{}
				}
				values[k][l.GetValue()] = true
			}
		}
	}

	names := ruleMetric.FindAllString(text, -1)
	if len(names) < 6 {
		t.Fatalf("found %d metric names in docs/prometheus-rules.yaml, want at least 6: %v", len(names), names)
	}
	for _, name := range names {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok && registered[b] {
				base = b
			}
		}
		if !registered[base] {
			t.Errorf("docs/prometheus-rules.yaml reads %s, which NewMetrics does not register: rename it in the rules, or register it", name)
		}
	}
	for _, sel := range ruleSelect.FindAllStringSubmatch(text, -1) {
		for _, m := range ruleMatcher.FindAllStringSubmatch(sel[2], -1) {
			if m[2] != "=" {
				continue
			}
			if !values[sel[1]+" "+m[1]][m[3]] {
				t.Errorf("docs/prometheus-rules.yaml selects %s{%s=%q}, but NewMetrics creates no such series: fix the label or value in the rules, or have NewMetrics start that series at 0 (increase() misses a series' first sample)", sel[1], m[1], m[3])
			}
		}
	}
}
