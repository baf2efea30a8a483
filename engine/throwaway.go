package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

// LabelDrill marks a restore drill's throwaway database container and its
// anonymous data volume, so that what a killed drill left behind can be
// found and removed (docker ps -a --filter label=dr.drill). Its value is
// the backup being drilled.
const LabelDrill = "dr.drill"

// LabelDrillOwner ties a drill's container to the state dir whose lock
// the drill held (its value is lock.Owner of that dir): a drill, holding
// that lock, knows any other container with its owner label is a
// leftover, while drills of another state dir are left alone.
const LabelDrillOwner = "dr.drill.owner"

// Throwaway is a short-lived container dr runs from a production image,
// cut off from every network and limited in CPU and memory.
type Throwaway struct {
	Image string
	// Env is given to the container; it may hold a generated password,
	// which is why a Throwaway is never logged.
	Env    []string
	Labels map[string]string
	// DataDir gets an anonymous volume of its own, removed with the
	// container and labelled like it.
	DataDir  string
	NanoCPUs int64
	Memory   int64
}

// RunThrowaway creates and starts the container with the image's own
// entrypoint and command. On a failed start the container is removed.
func (c *Client) RunThrowaway(ctx context.Context, t Throwaway) (string, error) {
	var mounts []mount.Mount
	if t.DataDir != "" {
		mounts = append(mounts, mount.Mount{
			Type:          mount.TypeVolume,
			Target:        t.DataDir,
			VolumeOptions: &mount.VolumeOptions{Labels: t.Labels},
		})
	}
	created, err := c.api.ContainerCreate(ctx,
		&container.Config{Image: t.Image, Env: t.Env, Labels: t.Labels},
		&container.HostConfig{
			NetworkMode: "none",
			Mounts:      mounts,
			Resources:   container.Resources{NanoCPUs: t.NanoCPUs, Memory: t.Memory},
		}, nil, nil, "")
	if err != nil {
		return "", fmt.Errorf("creating a container from image %s: %w", t.Image, err)
	}
	if err := c.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		c.RemoveThrowaway(ctx, created.ID)
		return "", fmt.Errorf("starting a container from image %s: %w", t.Image, err)
	}
	return created.ID, nil
}

// RemoveThrowaway removes a container with its anonymous volumes, even
// when ctx has ended (Ctrl-C): the undo must run.
func (c *Client) RemoveThrowaway(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	err := c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %s: %w", shortID(id), err)
	}
	return nil
}

// RemoveLabelled removes every container, and then every volume, that
// carries label (a key, or key=value), and returns what it removed. It
// never touches anything without that label.
func (c *Client) RemoveLabelled(ctx context.Context, label string) (containers, volumes []string, err error) {
	f := filters.NewArgs(filters.Arg("label", label))
	list, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, nil, fmt.Errorf("listing containers labelled %s: %w", label, err)
	}
	var errs []error
	for _, s := range list {
		if err := c.RemoveThrowaway(ctx, s.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		containers = append(containers, s.ID)
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return containers, nil, errors.Join(append(errs, fmt.Errorf("listing volumes labelled %s: %w", label, err))...)
	}
	for _, v := range vols.Volumes {
		if err := c.api.VolumeRemove(ctx, v.Name, true); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing volume %s: %w", v.Name, err))
			continue
		}
		volumes = append(volumes, v.Name)
	}
	return containers, volumes, errors.Join(errs...)
}

// ListLabelled returns the IDs of every container and the names of every
// volume that carry label.
func (c *Client) ListLabelled(ctx context.Context, label string) (containers, volumes []string, err error) {
	f := filters.NewArgs(filters.Arg("label", label))
	list, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, nil, fmt.Errorf("listing containers labelled %s: %w", label, err)
	}
	for _, s := range list {
		containers = append(containers, s.ID)
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return containers, nil, fmt.Errorf("listing volumes labelled %s: %w", label, err)
	}
	for _, v := range vols.Volumes {
		volumes = append(volumes, v.Name)
	}
	return containers, volumes, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
