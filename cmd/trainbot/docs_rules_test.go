package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/internal/testenv"
)

// The alert rules people load into Prometheus (docs/prometheus-rules.yaml)
// are valid for promtool, and their unit tests
// (docs/prometheus-rules.test.yaml: every alert fires from sample series,
// and each has a case where it must not) pass.
func TestPrometheusRules(t *testing.T) {
	promtool := needProgram(t, "promtool", "Debian's prometheus package has it (apt-get install prometheus)")
	docs := filepath.Join("..", "..", "docs")
	for _, args := range [][]string{
		{"check", "rules", "prometheus-rules.yaml"},
		{"test", "rules", "prometheus-rules.test.yaml"},
	} {
		cmd := exec.CommandContext(t.Context(), promtool, args...)
		cmd.Dir = docs
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// Every alert of docs/prometheus-rules.yaml has cases in its unit tests.
func TestPrometheusRulesAllTested(t *testing.T) {
	rules := readDoc(t, "prometheus-rules.yaml")
	tests := readDoc(t, "prometheus-rules.test.yaml")
	n := 0
	for _, line := range strings.Split(rules, "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert: ")
		if !ok {
			continue
		}
		n++
		if strings.Count(tests, "alertname: "+name+"\n") < 2 {
			t.Errorf("alert %s has fewer than two evaluations in docs/prometheus-rules.test.yaml: add one where it fires and one where it must not", name)
		}
	}
	if n < 6 {
		t.Errorf("docs/prometheus-rules.yaml has %d alerts, want at least 6", n)
	}
}

// needProgram returns the path of program, or skips t when it is not
// installed — failing it instead when CI=true, where .ci/run installs it.
func needProgram(t *testing.T, program, how string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	testenv.Missing(t, program+" is not on PATH: "+how)
	return ""
}

// readDoc returns the file docs/name of the repository.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
