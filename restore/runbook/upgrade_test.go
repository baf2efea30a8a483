package runbook

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/restore"
)

func TestParseComposeImages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		want   map[string]string
		err    string
	}{
		{"resolved images, a built service", `
version: "2.4"
services:
  appwrite:
    image: appwrite/appwrite:1.8.0
    environment:
      _APP_OPENSSL_KEY_V1: not-read
  mariadb:
    image: mariadb:10.11
  local:
    build: .
`, map[string]string{"appwrite": "appwrite/appwrite:1.8.0", "mariadb": "mariadb:10.11", "local": ""}, ""},
		{"no services", "version: '3'\n", nil, "no services"},
		{"not YAML", "services: [", nil, "reading docker compose config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseComposeImages([]byte(tc.config))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("parseComposeImages = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// fakeEngine answers the calls the upgrade-failed steps make; any other
// call hits the nil interface and panics, so a step that starts making
// one is noticed.
type fakeEngine struct {
	restore.Engine
	stack   *engine.Stack
	stopped []string
}

func (f *fakeEngine) FindStack(context.Context, string, string) (*engine.Stack, error) {
	return f.stack, nil
}

func (f *fakeEngine) StopServices(_ context.Context, _ *engine.Stack, services []string, _ time.Duration) ([]string, error) {
	f.stopped = append(f.stopped, services...)
	return services, nil
}

type fakeCompose struct{ images map[string]string }

func (fakeCompose) Up(context.Context, string, string, ...string) error     { return nil }
func (fakeCompose) UpRemovingOrphans(context.Context, string, string) error { return nil }
func (f fakeCompose) Images(context.Context, string, string) (map[string]string, error) {
	return f.images, nil
}

type upOnly struct{}

func (upOnly) Up(context.Context, string, string, ...string) error { return nil }

func upgradeEnv(containers []engine.Container, images map[string]string) (*Env, *fakeEngine, *bytes.Buffer) {
	cfg := config.Default()
	fe := &fakeEngine{stack: &engine.Stack{Project: "app", Containers: containers}}
	var out bytes.Buffer
	return &Env{Engine: fe, Config: cfg, Compose: fakeCompose{images}, Out: &out, project: "app"}, fe, &out
}

func TestCheckOldVersionWithFakes(t *testing.T) {
	const old, upgraded = "appwrite/appwrite:1.8.0", "appwrite/appwrite:1.8.1"
	ct := func(svc, image string, running bool) engine.Container {
		return engine.Container{ID: svc, Name: "app-" + svc + "-1", Service: svc, Image: image, Running: running}
	}
	images := map[string]string{"mariadb": "mariadb:10.11", "appwrite": old, "worker": old}
	for _, tc := range []struct {
		name       string
		containers []engine.Container
		images     map[string]string
		want       string // "" means the step passes
	}{
		{"the old version runs", []engine.Container{ct("appwrite", old, true), ct("mariadb", "mariadb:10.11", true), ct("worker", old, true)}, images, ""},
		{"a service kept the new image", []engine.Container{ct("appwrite", upgraded, true), ct("mariadb", "mariadb:10.11", true), ct("worker", old, true)}, images, "app-appwrite-1 runs " + upgraded + ", not " + old},
		{"a service is stopped", []engine.Container{ct("appwrite", old, true), ct("mariadb", "mariadb:10.11", true), ct("worker", old, false)}, images, "app-worker-1 is not running"},
		{"a service only the new version had is left", []engine.Container{ct("appwrite", old, true), ct("mariadb", "mariadb:10.11", true), ct("worker", old, true), ct("worker-migrations", upgraded, true)}, images, "service worker-migrations, which the restored compose files lack"},
		{"a service has no container", []engine.Container{ct("appwrite", old, true), ct("mariadb", "mariadb:10.11", true)}, images, "service worker has no container"},
		{"a built service is not checked", []engine.Container{ct("appwrite", old, true), ct("mariadb", "mariadb:10.11", true), ct("worker", "app-worker", true)}, map[string]string{"mariadb": "mariadb:10.11", "appwrite": old, "worker": ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _, out := upgradeEnv(tc.containers, tc.images)
			err := checkOldVersion(context.Background(), env)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkOldVersion = %v, want it to pass", err)
				}
				if !strings.Contains(out.String(), "appwrite: "+old) {
					t.Errorf("the step does not say what appwrite runs:\n%s", out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkOldVersion = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStopNewVersionWithFakes(t *testing.T) {
	env, fe, out := upgradeEnv([]engine.Container{{Service: "appwrite"}, {Service: "mariadb"}, {Service: "worker-migrations"}}, nil)
	if err := stopNewVersion(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fe.stopped, []string{"appwrite", "worker-migrations"}) || !strings.Contains(out.String(), "stopped appwrite, worker-migrations") {
		t.Errorf("stopped %v (%q), want every service but the database", fe.stopped, out)
	}

	env.Compose = upOnly{}
	if err := startOldVersion(context.Background(), env); err == nil || !strings.Contains(err.Error(), "cannot remove orphans") {
		t.Errorf("startOldVersion with a compose runner that cannot = %v", err)
	}
}
