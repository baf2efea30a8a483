package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

// LabelHelper marks the short-lived containers dr makes to reach volumes,
// so leftovers of a killed run can be found (docker ps -a --filter label=…).
const LabelHelper = "dr.helper"

// LabelHelperOwner ties a helper to the state dir whose lock the run that
// made it held (see WithOwner); its value is lock.Owner of that dir.
const LabelHelperOwner = "dr.helper.owner"

// volumeMountPoint is where a helper container sees the volume.
const volumeMountPoint = "/volume"

// VolumeExists reports whether a named volume exists.
func (c *Client) VolumeExists(ctx context.Context, name string) (bool, error) {
	_, err := c.api.VolumeInspect(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("inspecting volume %s: %w", name, err)
	}
}

// CreateVolume makes a named volume with the given labels (compose's
// com.docker.compose.project and .volume, so compose adopts it).
func (c *Client) CreateVolume(ctx context.Context, name string, labels map[string]string) error {
	if _, err := c.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: labels}); err != nil {
		return fmt.Errorf("creating volume %s: %w", name, err)
	}
	return nil
}

// ReadVolume streams a volume's contents as a tar archive made by the
// engine. Entry names start with "volume/" (the volume root itself is the
// "volume/" directory entry, carrying the root's mode and owner); modes,
// owners, times and symlinks are kept. image is any local image: the
// helper container that mounts the volume read-only is never started.
// Closing the stream removes the helper.
func (c *Client) ReadVolume(ctx context.Context, name, image string) (io.ReadCloser, error) {
	sess, err := c.OpenVolume(ctx, name, image)
	if err != nil {
		return nil, err
	}
	rc, err := sess.ReadAll(ctx)
	if err != nil {
		sess.Close()
		return nil, err
	}
	return &helperStream{ReadCloser: rc, remove: sess.Close}, nil
}

// helperStream removes its helper container once the stream is closed.
type helperStream struct {
	io.ReadCloser
	once   sync.Once
	remove func()
}

func (h *helperStream) Close() error {
	err := h.ReadCloser.Close()
	h.once.Do(h.remove)
	return err
}

// emptyScript removes everything in the volume but its root, whose mode
// and owner the archive then sets.
const emptyScript = `find /volume -mindepth 1 -delete`

// ReplaceVolume makes a volume hold exactly the archive's contents: it
// empties the volume, then has the engine unpack the tar into it with the
// archive's owners and modes. Entry names are as ReadVolume makes them
// ("volume/…"); entries outside "volume/" land in the throwaway helper and
// are lost. image must have sh and find: a helper runs find to empty the
// volume. The volume must exist (see CreateVolume).
func (c *Client) ReplaceVolume(ctx context.Context, name, image string, archive io.Reader) error {
	if err := c.emptyVolume(ctx, name, image); err != nil {
		return err
	}
	return c.WriteVolume(ctx, name, image, archive)
}

// WriteVolume unpacks the archive into the volume over what it holds:
// entries replace files of the same name, everything else stays. Entry
// names are as ReadVolume makes them ("volume/…").
func (c *Client) WriteVolume(ctx context.Context, name, image string, archive io.Reader) error {
	// A helper with no user set makes the engine keep the archive's owners
	// (a set user, or CopyUIDGID, would chown everything to that user).
	helper, err := c.createVolumeHelper(ctx, name, image, false, "", nil)
	if err != nil {
		return err
	}
	defer c.removeHelper(ctx, helper)
	// The engine unpacks into a container's mounts without starting it,
	// inside the container's root, so no entry can land outside it.
	if err := c.api.CopyToContainer(ctx, helper, "/", archive, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("writing volume %s: %w", name, err)
	}
	return nil
}

func (c *Client) emptyVolume(ctx context.Context, name, image string) error {
	helper, err := c.createVolumeHelper(ctx, name, image, false, "0", []string{"sh", "-c", emptyScript})
	if err != nil {
		return err
	}
	defer c.removeHelper(ctx, helper)
	waitC, errC := c.api.ContainerWait(ctx, helper, container.WaitConditionNextExit)
	if err := c.api.ContainerStart(ctx, helper, container.StartOptions{}); err != nil {
		return fmt.Errorf("emptying volume %s: %w", name, err)
	}
	select {
	case res := <-waitC:
		if res.StatusCode != 0 {
			return fmt.Errorf("emptying volume %s: exit code %d", name, res.StatusCode)
		}
	case err := <-errC:
		return fmt.Errorf("emptying volume %s: %w", name, err)
	}
	return nil
}

func (c *Client) createVolumeHelper(ctx context.Context, name, image string, readOnly bool, user string, cmd []string) (string, error) {
	return c.createHelper(ctx, []string{name}, []string{volumeMountPoint}, image, readOnly, user, cmd)
}

// createHelper makes a helper container with each volume of names
// mounted at the mount point of the same index.
func (c *Client) createHelper(ctx context.Context, names, targets []string, image string, readOnly bool, user string, cmd []string) (string, error) {
	var mounts []mount.Mount
	for i, name := range names {
		exists, err := c.VolumeExists(ctx, name)
		if err != nil {
			return "", err
		}
		if !exists {
			return "", fmt.Errorf("volume %s does not exist", name)
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: targets[i], ReadOnly: readOnly})
	}
	name := strings.Join(names, ", ")
	if image == "" {
		return "", errors.New("reaching a volume: no helper image given")
	}
	if cmd == nil {
		cmd = []string{"true"}
	}
	// Created without ctx's cancellation: a create cancelled in flight may
	// still make the container on the engine, and then nobody knows its ID
	// to remove it (a SIGTERM during a backup left such helpers behind).
	// Once it exists, a cancelled ctx removes it here.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	created, err := c.api.ContainerCreate(cctx,
		&container.Config{
			Image:      image,
			Entrypoint: []string{},
			Cmd:        cmd,
			User:       user,
			Labels:     c.helperLabels(),
		},
		&container.HostConfig{
			NetworkMode: "none",
			Mounts:      mounts,
		}, nil, nil, "")
	if err != nil {
		return "", fmt.Errorf("creating a helper container for volume %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		c.removeHelper(ctx, created.ID)
		return "", fmt.Errorf("creating a helper container for volume %s: %w", name, err)
	}
	return created.ID, nil
}

// HelperOwnerLabel is the label filter (key=value) that finds the
// helpers made for owner: the ones a killed run of owner's state dir left,
// when the caller holds that lock.
func HelperOwnerLabel(owner string) string { return LabelHelperOwner + "=" + owner }

// LabelRemover removes containers and volumes by label.
type LabelRemover interface {
	RemoveLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
}

// RemoveLeftHelpers removes the volume helpers killed runs of owner's
// state dir left: a kill -9 while a volume was read or written leaves its
// helper, the volume mounted, and docker compose down -v then fails with
// "volume is in use". The caller holds that lock, so none is in use. It
// returns what to tell the operator ("" when there was nothing), and
// failed when nothing could be removed; a failure stops no run, since a
// leftover is in the way of nothing a backup or restore does.
func RemoveLeftHelpers(ctx context.Context, eng LabelRemover, owner string) (say string, failed bool) {
	label := HelperOwnerLabel(owner)
	removed, _, err := eng.RemoveLabelled(ctx, label)
	if err != nil {
		return fmt.Sprintf("removing the volume helpers a killed run left: %v; remove them by hand: docker rm -f $(docker ps -aq --filter label=%s)", err, label), true
	}
	if len(removed) == 0 {
		return "", false
	}
	return fmt.Sprintf("removed %d volume helper container(s) a killed run left", len(removed)), false
}

func (c *Client) helperLabels() map[string]string {
	labels := map[string]string{LabelHelper: "volume"}
	if c.owner != "" {
		labels[LabelHelperOwner] = c.owner
	}
	return labels
}

// removeHelper removes a helper container and the anonymous volumes its
// image declares, even when ctx has ended: the undo must run.
func (c *Client) removeHelper(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
}

// LabelVolume is the compose label naming a volume's key in its file.
const LabelVolume = "com.docker.compose.volume"

// ErrVolumeNotFound says no volume answers to a configured name.
var ErrVolumeNotFound = errors.New("volume not found")

// VolumeInfo is a named volume as the engine knows it.
type VolumeInfo struct {
	Name   string // the engine's name, e.g. appwrite_appwrite-uploads
	Labels map[string]string
}

// FindComposeVolume finds the volume a compose project calls key: the one
// labelled with both the project and the key (compose prefixes the
// engine's name with the project), else a volume named exactly key (an
// external volume). The error lists the project's volumes.
func (c *Client) FindComposeVolume(ctx context.Context, project, key string) (*VolumeInfo, error) {
	list, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelProject+"="+project))})
	if err != nil {
		return nil, fmt.Errorf("listing the volumes of project %s: %w", project, err)
	}
	var known []string
	for _, v := range list.Volumes {
		if v.Labels[LabelVolume] == key {
			return &VolumeInfo{Name: v.Name, Labels: v.Labels}, nil
		}
		known = append(known, v.Labels[LabelVolume])
	}
	if v, err := c.api.VolumeInspect(ctx, key); err == nil {
		return &VolumeInfo{Name: v.Name, Labels: v.Labels}, nil
	} else if !cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("inspecting volume %s: %w", key, err)
	}
	sort.Strings(known)
	have := "none"
	if len(known) > 0 {
		have = strings.Join(known, ", ")
	}
	return nil, fmt.Errorf("volume %q of project %s: %w (the project's volumes: %s)", key, project, ErrVolumeNotFound, have)
}

// ServicesMounting lists the services of the stack with a container that
// mounts the named volume, sorted.
func (c *Client) ServicesMounting(ctx context.Context, stack *Stack, volumeName string) ([]string, error) {
	var services []string
	for _, ct := range stack.Containers {
		if slices.Contains(services, ct.Service) {
			continue
		}
		d, err := c.InspectContainer(ctx, ct.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range d.Mounts {
			if m.Type == "volume" && m.Name == volumeName {
				services = append(services, ct.Service)
				break
			}
		}
	}
	sort.Strings(services)
	return services, nil
}

// VolumeMount is a named volume that a container of a stack mounts.
type VolumeMount struct {
	Service string
	// Key is the compose project's name for the volume (its
	// com.docker.compose.volume label), or the engine's name for a volume
	// the project does not own (an external one).
	Key string
	// Name is the engine's name, e.g. appwrite_appwrite-uploads.
	Name        string
	Destination string // the path inside the container
}

// VolumeMounts lists the named volumes mounted by the stack's containers,
// running or not, sorted by key, then service. Anonymous volumes (named by
// the engine with 64 hex digits) are left out: nothing can name them in a
// config, and compose makes new ones on every recreate.
func (c *Client) VolumeMounts(ctx context.Context, stack *Stack) ([]VolumeMount, error) {
	list, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelProject+"="+stack.Project))})
	if err != nil {
		return nil, fmt.Errorf("listing the volumes of project %s: %w", stack.Project, err)
	}
	keys := map[string]string{}
	for _, v := range list.Volumes {
		if k := v.Labels[LabelVolume]; k != "" {
			keys[v.Name] = k
		}
	}
	var out []VolumeMount
	for _, ct := range stack.Containers {
		info, err := c.api.ContainerInspect(ctx, ct.ID)
		if err != nil {
			return nil, fmt.Errorf("inspecting the mounts of container %s: %w", ct.Name, err)
		}
		for _, m := range info.Mounts {
			if m.Type != mount.TypeVolume || m.Name == "" || isAnonymousVolume(m.Name) {
				continue
			}
			key := keys[m.Name]
			if key == "" {
				key = m.Name
			}
			vm := VolumeMount{Service: ct.Service, Key: key, Name: m.Name, Destination: m.Destination}
			if !slices.Contains(out, vm) {
				out = append(out, vm)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Destination < out[j].Destination
	})
	return out, nil
}

func isAnonymousVolume(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
