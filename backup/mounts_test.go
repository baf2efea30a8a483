package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

func TestUnlistedVolumes(t *testing.T) {
	appwrite18 := []engine.VolumeMount{
		{Service: "mariadb", Key: "appwrite-mariadb", Name: "appwrite_appwrite-mariadb"},
		{Service: "redis", Key: "appwrite-redis", Name: "appwrite_appwrite-redis"},
		{Service: "appwrite", Key: "appwrite-cache", Name: "appwrite_appwrite-cache"},
		{Service: "appwrite", Key: "appwrite-uploads", Name: "appwrite_appwrite-uploads"},
		{Service: "appwrite", Key: "appwrite-imports", Name: "appwrite_appwrite-imports"},
		{Service: "appwrite", Key: "appwrite-sites", Name: "appwrite_appwrite-sites"},
		{Service: "appwrite-worker-builds", Key: "appwrite-sites", Name: "appwrite_appwrite-sites"},
		{Service: "appwrite", Key: "appwrite-functions", Name: "appwrite_appwrite-functions"},
		{Service: "appwrite", Key: "appwrite-builds", Name: "appwrite_appwrite-builds"},
		{Service: "appwrite", Key: "appwrite-certificates", Name: "appwrite_appwrite-certificates"},
		{Service: "traefik", Key: "appwrite-config", Name: "appwrite_appwrite-config"},
	}
	stack := func(volumes, exclude []string) config.Stack {
		s := config.Default().Stack
		if volumes != nil {
			s.Volumes = volumes
		}
		if exclude != nil {
			s.ExcludeVolumes = exclude
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		mounts []engine.VolumeMount
		stack  config.Stack
		want   []string // the volumes warned about, in order
	}{
		{"defaults cover Appwrite 1.8", appwrite18, stack(nil, nil), nil},
		{"the five volumes of the old default", appwrite18, stack(config.DefaultVolumes()[:5], nil), []string{"appwrite-imports", "appwrite-sites"}},
		{"one left out, excluded", appwrite18, stack(config.DefaultVolumes()[:6], []string{"appwrite-imports", "appwrite-cache", "appwrite-redis"}), nil},
		{"an explicit exclude list replaces the default one", appwrite18, stack(nil, []string{"appwrite-redis"}), []string{"appwrite-cache"}},
		{"listed by engine name", appwrite18, stack(append(config.DefaultVolumes()[:6], "appwrite_appwrite-imports"), nil), nil},
		{"the database's volume needs no entry", appwrite18, stack([]string{}, []string{"appwrite-cache", "appwrite-redis", "appwrite-uploads", "appwrite-imports", "appwrite-sites", "appwrite-functions", "appwrite-builds", "appwrite-certificates", "appwrite-config"}), nil},
		{"an external volume", append(slices.Clone(appwrite18), engine.VolumeMount{Service: "appwrite", Key: "shared-media", Name: "shared-media"}), stack(nil, nil), []string{"shared-media"}},
		{"no mounts", nil, stack(nil, nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := unlistedVolumes(tc.mounts, tc.stack)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want one each for %v", got, tc.want)
			}
			for i, v := range tc.want {
				if !strings.HasPrefix(got[i], "volume "+v+" is mounted by ") ||
					!strings.Contains(got[i], "stack.volumes") || !strings.Contains(got[i], "stack.exclude_volumes") {
					t.Errorf("warning %q does not name %s and say how to silence it", got[i], v)
				}
			}
		})
	}
	got := unlistedVolumes(appwrite18, stack(config.DefaultVolumes()[:5], nil))
	if !strings.HasPrefix(got[1], "volume appwrite-sites is mounted by appwrite, appwrite-worker-builds ") {
		t.Errorf("warning does not list every service that mounts the volume: %q", got[1])
	}
}

// fakeVolumes answers FindComposeVolume from a set of keys.
type fakeVolumes map[string]bool

func (f fakeVolumes) FindComposeVolume(_ context.Context, project, key string) (*engine.VolumeInfo, error) {
	if !f[key] {
		return nil, fmt.Errorf("volume %q of project %s: %w", key, project, engine.ErrVolumeNotFound)
	}
	return &engine.VolumeInfo{Name: project + "_" + key}, nil
}

func TestResolveVolumesSkipsOnlyAbsentDefaults(t *testing.T) {
	appwrite16 := fakeVolumes{}
	for _, v := range config.DefaultVolumes()[:5] {
		appwrite16[v] = true
	}
	for _, tc := range []struct {
		name       string
		keys       []string
		defaulted  bool
		wantFound  int
		wantAbsent []string
		wantErr    string
	}{
		{"default list on Appwrite 1.6", config.DefaultVolumes(), true, 5, []string{"appwrite-sites", "appwrite-imports"}, ""},
		{"configured volume missing", []string{"appwrite-uploads", "appwrite-sites"}, false, 0, nil, `"appwrite-sites"`},
		{"configured volumes present", []string{"appwrite-uploads"}, false, 1, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, absent, err := resolveVolumes(context.Background(), appwrite16, "appwrite", tc.keys, tc.defaulted)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, engine.ErrVolumeNotFound) {
					t.Fatalf("want an error naming %s, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil || len(found) != tc.wantFound || !slices.Equal(absent, tc.wantAbsent) {
				t.Fatalf("found %d, absent %v, err %v; want %d, %v", len(found), absent, err, tc.wantFound, tc.wantAbsent)
			}
		})
	}
}
