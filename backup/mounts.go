package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

// MountLister is what the volume-mount check needs from the engine.
type MountLister interface {
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
	VolumeMounts(ctx context.Context, stack *engine.Stack) ([]engine.VolumeMount, error)
}

// CheckMounts finds the configured stack and returns a warning for every
// named volume its services mount that is neither in stack.volumes nor in
// stack.exclude_volumes (dr config check runs it; dr backup does the same
// as part of its run). An error means the check could not be made (no
// stack up, say), not that the config is wrong.
func CheckMounts(ctx context.Context, eng MountLister, cfg *config.Config) ([]string, error) {
	stack, err := eng.FindStack(ctx, cfg.Stack.Project, cfg.Stack.Database.Service)
	if err != nil {
		return nil, fmt.Errorf("finding the stack: %w", err)
	}
	mounts, err := eng.VolumeMounts(ctx, stack)
	if err != nil {
		return nil, err
	}
	return unlistedVolumes(mounts, cfg.Stack), nil
}

// unlistedVolumes decides which mounted volumes an operator must hear
// about: an Appwrite release that adds a data volume (as 1.7 added
// appwrite-sites and appwrite-imports) would otherwise be left out of
// every backup without a word. A volume counts as listed under its compose
// key or its engine name, as stack.volumes resolves either. The volumes
// the database service mounts are its data directory, which the dump
// covers; they are never copied and need no entry.
func unlistedVolumes(mounts []engine.VolumeMount, stack config.Stack) []string {
	var dbVolumes []string
	for _, m := range mounts {
		if m.Service == stack.Database.Service {
			dbVolumes = append(dbVolumes, m.Name)
		}
	}
	listed := func(m engine.VolumeMount) bool {
		for _, list := range [][]string{stack.Volumes, stack.ExcludeVolumes} {
			if slices.Contains(list, m.Key) || slices.Contains(list, m.Name) {
				return true
			}
		}
		return slices.Contains(dbVolumes, m.Name)
	}
	var keys []string
	services := map[string][]string{}
	for _, m := range mounts {
		if listed(m) {
			continue
		}
		if !slices.Contains(keys, m.Key) {
			keys = append(keys, m.Key)
		}
		if !slices.Contains(services[m.Key], m.Service) {
			services[m.Key] = append(services[m.Key], m.Service)
		}
	}
	slices.Sort(keys)
	warnings := make([]string, 0, len(keys))
	for _, k := range keys {
		svcs := services[k]
		slices.Sort(svcs)
		warnings = append(warnings, fmt.Sprintf("volume %s is mounted by %s but is not backed up: add it to stack.volumes to back it up, or to stack.exclude_volumes to leave it out on purpose and silence this warning",
			k, strings.Join(svcs, ", ")))
	}
	return warnings
}
