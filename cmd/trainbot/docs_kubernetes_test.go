package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
)

// The parts of Kubernetes objects the manifest test reads.
type k8sObject struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   k8sMeta           `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas     int `yaml:"replicas"`
		MinAvailable any `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata k8sMeta `yaml:"metadata"`
			Spec     struct {
				TerminationGracePeriodSeconds int            `yaml:"terminationGracePeriodSeconds"`
				Containers                    []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sMeta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type k8sContainer struct {
	Name  string `yaml:"name"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom any    `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a port's name
	} `yaml:"httpGet"`
}

// runtimeEnv are variables the manifests may set that are Go's, not
// trainbot's settings.
var runtimeEnv = []string{"GOMEMLIMIT"}

// manifests reads every object of docs/kubernetes/*.yaml but the
// kustomization, by kind and name ("Deployment/trainbot").
func manifests(t *testing.T) map[string]k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in docs/kubernetes: %v", err)
	}
	objs := map[string]k8sObject{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(r)
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s does not parse: %v", f, err)
			}
			if o.Kind == "" || o.Metadata.Name == "" || o.APIVersion == "" {
				t.Fatalf("%s holds an object without apiVersion, kind or name", f)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
		r.Close()
	}
	return objs
}

// object returns the object kind/name of objs, failing t when it is absent.
func object(t *testing.T, objs map[string]k8sObject, key string) k8sObject {
	t.Helper()
	o, ok := objs[key]
	if !ok {
		t.Fatalf("docs/kubernetes has no %s", key)
	}
	return o
}

// trainbotContainer is the Deployment's trainbot container.
func trainbotContainer(t *testing.T, objs map[string]k8sObject) k8sContainer {
	t.Helper()
	d := object(t, objs, "Deployment/trainbot")
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	return d.Spec.Template.Spec.Containers[0]
}

// The manifests in docs/kubernetes set only settings trainbot has, from a
// Secret and a ConfigMap that exist there; the values given are valid
// settings for serve; two replicas with a PodDisruptionBudget.
func TestKubernetesManifestSettings(t *testing.T) {
	objs := manifests(t)
	d := object(t, objs, "Deployment/trainbot")
	if d.Spec.Replicas != 2 {
		t.Errorf("the Deployment runs %d replicas, want 2", d.Spec.Replicas)
	}
	pdb := object(t, objs, "PodDisruptionBudget/trainbot")
	for k, v := range pdb.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the PodDisruptionBudget selects %s=%s, which the Deployment's pods lack", k, v)
		}
	}
	if pdb.Spec.MinAvailable != 1 {
		t.Errorf("the PodDisruptionBudget keeps %v available, want 1", pdb.Spec.MinAvailable)
	}

	settings := settingNames()
	known := func(name string) bool { return slices.Contains(settings, name) }
	c := trainbotContainer(t, objs)
	values := map[string]string{}
	var fromSecret, fromConfigMap bool
	for _, ef := range c.EnvFrom {
		var o k8sObject
		switch {
		case ef.ConfigMapRef != nil:
			o, fromConfigMap = object(t, objs, "ConfigMap/"+ef.ConfigMapRef.Name), true
		case ef.SecretRef != nil:
			o, fromSecret = object(t, objs, "Secret/"+ef.SecretRef.Name), true
		default:
			t.Fatal("an envFrom entry names neither a ConfigMap nor a Secret")
		}
		for _, data := range []map[string]string{o.Data, o.StringData} {
			for k, v := range data {
				if !known(k) {
					t.Errorf("%s/%s sets %s, which is not a trainbot setting (trainbot -h lists them)", o.Kind, o.Metadata.Name, k)
				}
				values[k] = v
			}
		}
	}
	if !fromSecret || !fromConfigMap {
		t.Errorf("the settings come from a Secret (%v) and a ConfigMap (%v): want both", fromSecret, fromConfigMap)
	}
	for _, e := range c.Env {
		if !known(e.Name) && !slices.Contains(runtimeEnv, e.Name) {
			t.Errorf("the container sets %s, which is not a trainbot setting", e.Name)
		}
		if e.ValueFrom == nil {
			values[e.Name] = e.Value
		}
	}
	// Go's soft limit is below the container's hard one, leaving room
	// for what the runtime does not count (about a tenth).
	limit, ok1 := mebibytes(c.Resources.Limits["memory"], "Mi")
	soft, ok2 := mebibytes(values["GOMEMLIMIT"], "MiB")
	if !ok1 || !ok2 || soft >= limit || soft < limit*8/10 {
		t.Errorf("GOMEMLIMIT is %q and the memory limit %q: want GOMEMLIMIT a literal value in MiB of 80 to 95%% of the limit (Mi), so that Go collects before the kernel kills the pod",
			values["GOMEMLIMIT"], c.Resources.Limits["memory"])
	} else if soft > limit*95/100 {
		t.Errorf("GOMEMLIMIT %dMiB is too close to the memory limit %dMi", soft, limit)
	}
	for _, secret := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "GITHUB_TOKEN", "REDIS_URL"} {
		if _, ok := object(t, objs, "Secret/trainbot-secrets").StringData[secret]; !ok {
			t.Errorf("the Secret lacks %s", secret)
		}
	}

	// The values parse as serve's settings.
	clearEnv(t)
	for k, v := range values {
		if known(k) {
			t.Setenv(k, v)
		}
	}
	if _, err := config(ModeServe); err != nil {
		t.Errorf("the manifests' settings are refused by trainbot serve:\n%v", err)
	}
}

// mebibytes reads a whole number of mebibytes written with unit ("Mi" as
// Kubernetes writes it, "MiB" as GOMEMLIMIT does).
func mebibytes(v, unit string) (int, bool) {
	n, ok := strings.CutSuffix(v, unit)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i > 0
}

// Every probe of the Deployment, and the path Prometheus is told to
// scrape, is served by trainbot serve on the port the container names —
// TRAINBOT_HTTP_ADDR's — and answers 200 once it is connected.
func TestKubernetesProbesAreServed(t *testing.T) {
	objs := manifests(t)
	c := trainbotContainer(t, objs)
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	addr := object(t, objs, "ConfigMap/trainbot-config").Data["TRAINBOT_HTTP_ADDR"]
	if addr == "" {
		addr = settingDefault(t, "TRAINBOT_HTTP_ADDR")
	}
	_, listen, _ := strings.Cut(addr, ":")
	paths := map[string]bool{}
	for name, p := range map[string]*k8sProbe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("the container has no %s probe over HTTP", name)
			continue
		}
		port := 0
		switch v := p.HTTPGet.Port.(type) {
		case string:
			port = ports[v]
		case int:
			port = v
		}
		if strconv.Itoa(port) != listen {
			t.Errorf("the %s probe asks port %v (%d), but trainbot listens on %s (TRAINBOT_HTTP_ADDR)", name, p.HTTPGet.Port, port, addr)
		}
		paths[p.HTTPGet.Path] = true
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probes %s, want /healthz", c.LivenessProbe.HTTPGet.Path)
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probes %s, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	ann := object(t, objs, "Deployment/trainbot").Spec.Template.Metadata.Annotations
	if ann["prometheus.io/port"] != listen {
		t.Errorf("Prometheus is told port %q, trainbot listens on %s", ann["prometheus.io/port"], addr)
	}
	paths[ann["prometheus.io/path"]] = true

	r := redistest.New(t)
	gh := githubfake.New(t)
	e := startServeOn(t, gh, r.URL, r.Prefix, "", nil)
	for path := range paths {
		// As the kubelet does: ask again until it answers 200 (/readyz
		// does once the bot has seen Slack's hello), within a bound.
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, body := e.get(path)
			if code == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("GET %s = %d %s, want 200", path, code, body)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// settingDefault is the default of the setting name.
func settingDefault(t *testing.T, name string) string {
	t.Helper()
	clearEnv(t)
	return os.Getenv(name)
}

// manifestMemory is the Deployment's memory request and limit, in bytes.
func manifestMemory(t *testing.T) (request, limit int64) {
	t.Helper()
	c := trainbotContainer(t, manifests(t))
	return quantity(t, c.Resources.Requests["memory"]), quantity(t, c.Resources.Limits["memory"])
}

// quantity reads a Kubernetes memory quantity written in Mi or Gi.
func quantity(t *testing.T, q string) int64 {
	t.Helper()
	for suffix, unit := range map[string]int64{"Mi": 1 << 20, "Gi": 1 << 30} {
		if n, ok := strings.CutSuffix(q, suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err == nil && v > 0 {
				return v * unit
			}
		}
	}
	t.Fatalf("memory %q is not written as a whole number of Mi or Gi", q)
	return 0
}
