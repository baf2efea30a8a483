package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

// fakeVolumes is an engine that knows some volumes and which services
// mount them; planVolumes needs nothing else.
type fakeVolumes struct {
	Engine  // nil: any other call panics
	volumes []engine.VolumeInfo
	mounts  map[string][]string // engine volume name -> services
}

// FindComposeVolume answers like engine.Client: the project's volume
// labelled with the key, else a volume named exactly key.
func (f *fakeVolumes) FindComposeVolume(_ context.Context, project, key string) (*engine.VolumeInfo, error) {
	for _, v := range f.volumes {
		if v.Labels[engine.LabelProject] == project && v.Labels[engine.LabelVolume] == key {
			return &v, nil
		}
	}
	for _, v := range f.volumes {
		if v.Name == key {
			return &v, nil
		}
	}
	return nil, fmt.Errorf("volume %q: %w", key, engine.ErrVolumeNotFound)
}

func (f *fakeVolumes) ServicesMounting(_ context.Context, _ *engine.Stack, name string) ([]string, error) {
	return f.mounts[name], nil
}

func composeVolume(project, key string) engine.VolumeInfo {
	return engine.VolumeInfo{Name: project + "_" + key, Labels: map[string]string{engine.LabelProject: project, engine.LabelVolume: key}}
}

// TestVolumeRule: which volumes a restore may fill, decided from the
// configuration and the engine, never from the sidecar alone.
func TestVolumeRule(t *testing.T) {
	const project = "appwrite"
	host := []engine.VolumeInfo{
		composeVolume(project, "appwrite-uploads"),
		composeVolume("other", "appwrite-config"),
		{Name: "appwrite-config"}, // an unrelated volume named like a key
		{Name: "shared-certs"},    // an external volume the stack mounts
		{Name: "victim"},          // a volume of nobody's stack
		composeVolume("billing", "data"),
	}
	mounts := map[string][]string{"appwrite_appwrite-uploads": {"appwrite"}, "shared-certs": {"traefik"}, "other_appwrite-config": {"other-app"}}
	configured := []string{"appwrite-uploads", "appwrite-functions", "shared-certs", "victim", "billing_data", "appwrite-config"}
	tests := []struct {
		name       string
		volume     archive.Volume
		configured []string
		wantDocker string
		wantExists bool
		wantErr    string
	}{
		{name: "the project's compose volume", volume: archive.Volume{Name: "appwrite-uploads"}, wantDocker: "appwrite_appwrite-uploads", wantExists: true},
		{name: "an external volume the stack mounts", volume: archive.Volume{Name: "shared-certs"}, wantDocker: "shared-certs", wantExists: true},
		{name: "a missing volume is created under the project's naming", volume: archive.Volume{Name: "appwrite-functions"}, wantDocker: "appwrite_appwrite-functions"},
		{
			name:       "the sidecar's engine name and labels for a missing volume are ignored",
			volume:     archive.Volume{Name: "appwrite-functions", Docker: "billing_data", Labels: map[string]string{engine.LabelProject: "billing", engine.LabelVolume: "data"}},
			wantDocker: "appwrite_appwrite-functions",
		},
		{name: "a key the configuration does not back up", volume: archive.Volume{Name: "billing_data"}, configured: []string{"appwrite-uploads"}, wantErr: `holds volume "billing_data", which stack.volumes does not list`},
		{name: "no volumes configured: none restored", volume: archive.Volume{Name: "appwrite-uploads"}, configured: []string{}, wantErr: "it lists: none"},
		{name: "a configured key naming a volume of nobody's stack", volume: archive.Volume{Name: "victim"}, wantErr: "belongs to no compose project"},
		{name: "a configured key naming another project's volume", volume: archive.Volume{Name: "billing_data"}, wantErr: "belongs to compose project billing"},
		{name: "an unrelated volume carrying a key's name", volume: archive.Volume{Name: "appwrite-config"}, wantErr: "the engine volume appwrite-config, which belongs to no compose project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgVolumes := configured
			if tt.configured != nil {
				cfgVolumes = tt.configured
			}
			eng := &fakeVolumes{volumes: host, mounts: mounts}
			plan := &Plan{
				Project: project, DBService: "mariadb", stack: &engine.Stack{Project: project},
				Manifest: &archive.Manifest{Name: "appwrite-20261125T080000Z.tar.zst", Stack: project, Volumes: []archive.Volume{tt.volume}},
			}
			err := planVolumes(context.Background(), eng, plan, cfgVolumes, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v (plan %+v), want an error with %q", err, plan.Volumes, tt.wantErr)
				}
				if len(plan.Stop) > 0 || len(plan.Volumes) > 0 {
					t.Errorf("a refused volume still planned %v, stopping %v", plan.Volumes, plan.Stop)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			vp := plan.Volumes[0]
			if vp.Docker != tt.wantDocker || vp.Exists != tt.wantExists {
				t.Errorf("planned %s (exists %v), want %s (exists %v)", vp.Docker, vp.Exists, tt.wantDocker, tt.wantExists)
			}
			if !vp.Exists && (vp.Labels[engine.LabelProject] != project || vp.Labels[engine.LabelVolume] != tt.volume.Name || len(vp.Labels) != 2) {
				t.Errorf("a fresh volume gets labels %v, want only the project's compose labels", vp.Labels)
			}
			if vp.Exists && !slices.Equal(vp.Services, mounts[vp.Docker]) {
				t.Errorf("services %v, want %v", vp.Services, mounts[vp.Docker])
			}
		})
	}
}

// TestOnlyVolumesOutsideTheConfigAreRefused: --volume cannot reach past
// the rule either.
func TestOnlyVolumesOutsideTheConfigAreRefused(t *testing.T) {
	eng := &fakeVolumes{volumes: []engine.VolumeInfo{{Name: "victim"}}}
	plan := &Plan{
		Project: "appwrite", stack: &engine.Stack{Project: "appwrite"},
		Manifest: &archive.Manifest{Name: "b", Stack: "appwrite", Volumes: []archive.Volume{{Name: "appwrite-uploads"}, {Name: "victim"}}},
	}
	err := planVolumes(context.Background(), eng, plan, []string{"appwrite-uploads"}, []string{"victim"})
	if err == nil || !strings.Contains(err.Error(), "stack.volumes does not list") {
		t.Errorf("got %v, want the unconfigured volume refused", err)
	}
}

// stackRecorder records which project a restore looks for, and stops it.
type stackRecorder struct {
	Engine
	asked []string
}

var errStop = errors.New("stop here")

func (s *stackRecorder) FindStack(_ context.Context, project, _ string) (*engine.Stack, error) {
	s.asked = append(s.asked, project)
	return nil, errStop
}

// TestTheSidecarDoesNotChooseTheProject: with no stack.project, the
// stack to restore into is found by the database service (as backup finds
// it), never by the stack name a sidecar on the remote carries.
func TestTheSidecarDoesNotChooseTheProject(t *testing.T) {
	cfg := config.Default()
	cfg.Stack.Project = ""
	cfg.StateDir = t.TempDir()
	cfg.Destinations = []config.Destination{{Name: "local", Remote: t.TempDir(), Retention: config.DefaultRetention()}}
	dests, err := backup.OpenReachable(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := writeCraftedBackup(t, cfg.Destinations[0].Remote, "victim", []archive.Entry{{Name: "volumes/appwrite-config/", Kind: archive.KindDir, Mode: 0o755}})
	eng := &stackRecorder{}
	_, err = Prepare(context.Background(), eng, cfg, dests, Request{Name: name, Parts: []string{PartVolumes}})
	if !errors.Is(err, errStop) {
		t.Fatalf("got %v, want the fake engine's stop", err)
	}
	if !slices.Equal(eng.asked, []string{""}) {
		t.Errorf("the restore looked for project %q, want discovery by the database service (\"\")", eng.asked)
	}
}
