package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
)

// Mount is one filesystem mount of a container.
type Mount struct {
	Type        string // "volume", "bind", "tmpfs", …
	Name        string // the volume name, for volumes
	Source      string // the host path, for binds and volumes
	Destination string // the path inside the container
	RW          bool
}

// ContainerDetails is what dr needs to know about a container beyond the
// listing. It deliberately has no environment values: see EnvKeys.
type ContainerDetails struct {
	ID               string
	Name             string
	Image            string
	ImageID          string
	ImageRepoDigests []string
	Mounts           []Mount // sorted by destination
	State            State
}

// State is a container's run state.
type State struct {
	Status   string // "running", "exited", "created", …
	Running  bool
	ExitCode int
	// Health is "healthy", "unhealthy" or "starting" for containers with a
	// healthcheck, and "" for those without.
	Health string
}

// InspectContainer describes a container: image, mounts and state.
func (c *Client) InspectContainer(ctx context.Context, id string) (*ContainerDetails, error) {
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspecting container %s: %w", id, err)
	}
	d := &ContainerDetails{
		ID:      info.ID,
		Name:    strings.TrimPrefix(info.Name, "/"),
		ImageID: info.Image,
		State:   stateOf(info.State),
	}
	if info.Config != nil {
		d.Image = info.Config.Image
	}
	for _, m := range info.Mounts {
		d.Mounts = append(d.Mounts, Mount{
			Type:        string(m.Type),
			Name:        m.Name,
			Source:      m.Source,
			Destination: m.Destination,
			RW:          m.RW,
		})
	}
	sort.Slice(d.Mounts, func(i, j int) bool { return d.Mounts[i].Destination < d.Mounts[j].Destination })
	img, err := c.api.ImageInspect(ctx, info.Image)
	if err != nil {
		return nil, fmt.Errorf("inspecting image %s of container %s: %w", info.Image, d.Name, err)
	}
	d.ImageRepoDigests = img.RepoDigests
	return d, nil
}

// EnvKeys lists the names of the environment variables a container sets,
// sorted. The values stay in the engine: a caller that needs a password
// refers to it by name in a shell run inside the container.
func (c *Client) EnvKeys(ctx context.Context, id string) ([]string, error) {
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspecting container %s: %w", id, err)
	}
	var keys []string
	if info.Config != nil {
		keys = envNames(info.Config.Env)
	}
	return keys, nil
}

// envNames keeps the part before the first "=" of each KEY=value entry.
func envNames(env []string) []string {
	keys := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name != "" {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys
}

// ImageDigest names an image by content for the manifest: its first
// repository digest (repo@sha256:…) when it came from a registry, else its
// local image ID (sha256:…), which is all an imported image has.
func (c *Client) ImageDigest(ctx context.Context, imageID string) (string, error) {
	img, err := c.api.ImageInspect(ctx, imageID)
	if err != nil {
		return "", fmt.Errorf("inspecting image %s: %w", imageID, err)
	}
	if len(img.RepoDigests) > 0 {
		return img.RepoDigests[0], nil
	}
	return img.ID, nil
}

// ContainerState reads a container's current run state.
func (c *Client) ContainerState(ctx context.Context, id string) (State, error) {
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return State{}, fmt.Errorf("inspecting container %s: %w", id, err)
	}
	return stateOf(info.State), nil
}

func stateOf(s *container.State) State {
	if s == nil {
		return State{}
	}
	st := State{Status: string(s.Status), Running: s.Running, ExitCode: s.ExitCode}
	if s.Health != nil {
		st.Health = string(s.Health.Status)
	}
	return st
}
