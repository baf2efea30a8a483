package backup

import (
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
)

// unlistedWarnings are the run's warnings about mounted volumes that are
// not backed up.
func unlistedWarnings(res *Result) []string {
	var out []string
	for _, w := range res.Warnings {
		if strings.Contains(w, "is not backed up") {
			out = append(out, w)
		}
	}
	return out
}

// TestDefaultVolumesCoverAppwrite17 is defect 3 of issue 10 on the real
// stack: its appwrite service mounts appwrite-sites and appwrite-imports,
// as Appwrite 1.7+ does. The default list backs both up; a volume the
// stack mounts that is neither listed nor excluded is warned about, by
// name; an excluded one is not.
func TestDefaultVolumesCoverAppwrite17(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	cfg := testConfig(t, s, map[string]string{"local": t.TempDir()})
	cfg.Stack.Volumes = config.Default().Stack.Volumes
	dests := openAll(t, cfg)

	// An Appwrite release that adds a volume dr does not know yet.
	s.MountExtraVolume(t, "extra", "appwrite-extra")

	res, err := backupAt(t, eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	files := map[string]int64{}
	for _, v := range res.Manifest.Volumes {
		files[v.Name] = v.Files
	}
	for _, v := range []string{"appwrite-sites", "appwrite-imports", "appwrite-uploads"} {
		if files[v] == 0 {
			t.Errorf("the backup with the default volume list lacks %s (it has %v)", v, files)
		}
	}
	warned := unlistedWarnings(res)
	if len(warned) != 1 || !strings.HasPrefix(warned[0], "volume appwrite-extra is mounted by extra ") || !strings.Contains(warned[0], "stack.exclude_volumes") {
		t.Errorf("want one warning, naming appwrite-extra and how to silence it; got %q", warned)
	}
	if !slices.Contains(res.Manifest.Warnings, warned[0]) {
		t.Errorf("the manifest does not record the warning: %q", res.Manifest.Warnings)
	}

	cfg.Stack.ExcludeVolumes = append(config.DefaultExcludedVolumes(), "appwrite-extra")
	res, err = backupAt(t, eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatalf("backup with appwrite-extra excluded: %v", err)
	}
	if w := unlistedWarnings(res); len(w) != 0 {
		t.Errorf("an excluded volume is still warned about: %q", w)
	}
	for _, v := range res.Manifest.Volumes {
		if v.Name == "appwrite-extra" {
			t.Error("an excluded volume was backed up")
		}
	}

	// A default volume left out of an explicit list (appwrite-extra still
	// excluded): the dry run, which checks what the backup checks, names it.
	cfg.Stack.Volumes = slices.DeleteFunc(slices.Clone(config.DefaultVolumes()), func(v string) bool { return v == "appwrite-imports" })
	plan, err := DryRun(t.Context(), eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if len(plan.Warnings) != 1 || !strings.HasPrefix(plan.Warnings[0], "volume appwrite-imports is mounted by appwrite ") {
		t.Errorf("dry run warnings %q, want one naming appwrite-imports", plan.Warnings)
	}
}
