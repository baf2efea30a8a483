package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// Plan is what a backup would do, for --dry-run.
type Plan struct {
	Name          string
	Project       string
	Kind          string
	Container     string
	Image         string
	Server        string
	Client        string // the dump client's command name
	ClientVersion string
	Databases     []string
	DumpOptions   []string
	Files         []string
	// Volumes are "key (engine name)" for each configured volume.
	Volumes []string
	// Absent are default volumes this stack does not have, skipped.
	Absent []string
	// Quiesce are the services stopped while volumes are captured.
	Quiesce      []string
	Encrypted    bool
	Destinations []string
	// Spooled are the destinations whose backend cannot take a stream:
	// rclone writes the archive to a temporary file before sending it.
	Spooled  []string
	Warnings []string
}

// DryRun checks everything a backup checks before data flows and says what
// it would write where, without dumping or writing anything.
func DryRun(ctx context.Context, eng Engine, cfg *config.Config, dests []*storage.Destination, now time.Time) (*Plan, error) {
	plan, err := prepare(ctx, eng, cfg)
	if err != nil {
		return nil, err
	}
	recipients, _, err := loadRecipients(cfg.Encryption)
	if err != nil {
		return nil, err
	}
	// The name a run started now would take (see Run).
	name, err := storage.FreeName(ctx, dests, plan.project, now, len(recipients) > 0)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Name:         name,
		Project:      plan.project,
		Kind:         plan.kind,
		Container:    plan.dbContainer.Name,
		Image:        plan.dbContainer.Image,
		Files:        plan.files,
		Encrypted:    len(recipients) > 0,
		Destinations: destNames(dests),
		Quiesce:      plan.quiesce,
	}
	if plan.pg != nil {
		info, err := plan.pg.Inspect(ctx, cfg.Stack.Database.Databases)
		if err != nil {
			return nil, err
		}
		p.Server, p.Client, p.ClientVersion = info.ServerVersion, info.Client, info.ClientVersion
		p.Databases, p.DumpOptions = info.Databases, postgresDumpOptions(cfg)
	} else {
		info, err := plan.db.Inspect(ctx, cfg.Stack.Database.Databases)
		if err != nil {
			return nil, err
		}
		args := info.DumpArgs(cfg.Stack.Database.IncludeGrants)
		p.Server, p.Client, p.ClientVersion = info.ServerVersion, info.Client, info.ClientVersion
		p.Databases, p.DumpOptions = info.Databases, args[:len(args)-len(info.Databases)-1]
		for _, o := range omissions(info) {
			p.Warnings = append(p.Warnings, o.String())
		}
	}
	for _, d := range dests {
		if !d.CanStream() {
			p.Spooled = append(p.Spooled, d.Name())
		}
	}
	for _, v := range plan.volumes {
		p.Volumes = append(p.Volumes, v.key+" ("+v.info.Name+")")
	}
	p.Absent = plan.absent
	p.Warnings = append(p.Warnings, plan.unlisted...)
	p.Warnings = append(p.Warnings, plan.envWarnings...)
	if plan.mountErr != nil {
		p.Warnings = append(p.Warnings, fmt.Sprintf("could not check which volumes the stack mounts: %v", plan.mountErr))
	}
	return p, nil
}
