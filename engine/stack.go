package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// The labels docker compose (v1 and v2) puts on every container it makes.
const (
	LabelProject    = "com.docker.compose.project"
	LabelService    = "com.docker.compose.service"
	LabelWorkingDir = "com.docker.compose.project.working_dir"
	LabelConfigFile = "com.docker.compose.project.config_files"
)

// Container is one container of a compose stack, as listed by the engine.
type Container struct {
	ID      string
	Name    string
	Service string
	Image   string // the reference the container was created from
	ImageID string
	Running bool
	Labels  map[string]string
}

// Stack is the containers of one compose project, running or not.
type Stack struct {
	Project string
	// WorkingDir is the directory compose ran in, when its label says so.
	WorkingDir string
	Containers []Container // sorted by service, then name
}

// Service returns the first container of a service. A scaled service has
// several; callers that act on all of them use ServiceContainers.
func (s *Stack) Service(name string) (Container, bool) {
	for _, c := range s.Containers {
		if c.Service == name {
			return c, true
		}
	}
	return Container{}, false
}

// ServiceContainers returns every container of a service.
func (s *Stack) ServiceContainers(name string) []Container {
	var out []Container
	for _, c := range s.Containers {
		if c.Service == name {
			out = append(out, c)
		}
	}
	return out
}

// Running returns the services among those named that have a running
// container in the listing, in the order named: those a stop may reach.
func (s *Stack) Running(services []string) []string {
	var out []string
	for _, svc := range services {
		for _, c := range s.ServiceContainers(svc) {
			if c.Running && !slices.Contains(out, svc) {
				out = append(out, svc)
			}
		}
	}
	return out
}

// Present returns the services among those named that have a container
// in the listing, running or not, in the order named: those a start can
// reach.
func (s *Stack) Present(services []string) []string {
	var out []string
	for _, svc := range services {
		if len(s.ServiceContainers(svc)) > 0 {
			out = append(out, svc)
		}
	}
	return out
}

// Services lists the stack's service names, sorted and without repeats.
func (s *Stack) Services() []string {
	var names []string
	for _, c := range s.Containers {
		if !slices.Contains(names, c.Service) {
			names = append(names, c.Service)
		}
	}
	sort.Strings(names)
	return names
}

// FindStack lists a compose project's containers. An empty project means
// "the one project that has a container for dbService"; zero or several
// such projects are errors that tell the operator what to set.
func (c *Client) FindStack(ctx context.Context, project, dbService string) (*Stack, error) {
	if project == "" {
		found, err := c.discoverProject(ctx, dbService)
		if err != nil {
			return nil, err
		}
		project = found
	}
	containers, err := c.listByLabel(ctx, LabelProject+"="+project)
	if err != nil {
		return nil, fmt.Errorf("listing the containers of compose project %q: %w", project, err)
	}
	if len(containers) == 0 {
		return nil, fmt.Errorf("no container has the label %s=%s: is the stack up (docker compose ps) and is stack.project right?", LabelProject, project)
	}
	stack := &Stack{Project: project, Containers: containers}
	for _, ct := range containers {
		if dir := ct.Labels[LabelWorkingDir]; dir != "" {
			stack.WorkingDir = dir
			break
		}
	}
	return stack, nil
}

func (c *Client) discoverProject(ctx context.Context, dbService string) (string, error) {
	if dbService == "" {
		return "", fmt.Errorf("finding the compose project: neither the project nor the database service is set")
	}
	containers, err := c.listByLabel(ctx, LabelService+"="+dbService)
	if err != nil {
		return "", fmt.Errorf("finding the compose project of service %q: %w", dbService, err)
	}
	var projects []string
	for _, ct := range containers {
		p := ct.Labels[LabelProject]
		if p != "" && !slices.Contains(projects, p) {
			projects = append(projects, p)
		}
	}
	sort.Strings(projects)
	switch len(projects) {
	case 0:
		return "", fmt.Errorf("no container has the label %s=%s: start the stack (docker compose up -d) or set stack.database.service", LabelService, dbService)
	case 1:
		return projects[0], nil
	default:
		return "", fmt.Errorf("several compose projects have a %q service (%s): set stack.project to the one to back up", dbService, strings.Join(projects, ", "))
	}
}

func (c *Client) listByLabel(ctx context.Context, label string) ([]Container, error) {
	summaries, err := c.api.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", label)),
	})
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(summaries))
	for _, s := range summaries {
		name := s.ID
		if len(s.Names) > 0 {
			name = strings.TrimPrefix(s.Names[0], "/")
		}
		out = append(out, Container{
			ID:      s.ID,
			Name:    name,
			Service: s.Labels[LabelService],
			Image:   s.Image,
			ImageID: s.ImageID,
			Running: s.State == container.StateRunning,
			Labels:  s.Labels,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
