package engine

import (
	"context"
	"fmt"
	"sort"
)

// ComposeProjects lists every compose project the engine has containers
// for, running or not, each with its containers (sorted as FindStack sorts
// them), the projects sorted by name. dr init picks the stack to protect
// from this list.
func (c *Client) ComposeProjects(ctx context.Context) ([]*Stack, error) {
	containers, err := c.listByLabel(ctx, LabelProject)
	if err != nil {
		return nil, fmt.Errorf("listing compose containers: %w", err)
	}
	byProject := map[string]*Stack{}
	for _, ct := range containers {
		p := ct.Labels[LabelProject]
		if p == "" {
			continue
		}
		s, ok := byProject[p]
		if !ok {
			s = &Stack{Project: p}
			byProject[p] = s
		}
		s.Containers = append(s.Containers, ct)
		if s.WorkingDir == "" {
			s.WorkingDir = ct.Labels[LabelWorkingDir]
		}
	}
	out := make([]*Stack, 0, len(byProject))
	for _, s := range byProject {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Project < out[j].Project })
	return out, nil
}
