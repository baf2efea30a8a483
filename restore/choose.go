package restore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// Chosen is the backup a request names, the destination it is read from,
// and its sidecar manifest, fetched first. Copies are every reachable copy
// of it, Source first, the rest the fallback; Faults says why each copy
// passed over was.
type Chosen struct {
	Backup   storage.CatalogEntry
	Source   *storage.Destination
	Manifest *archive.Manifest
	Copies   []*storage.Destination
	Faults   []CopyFault
	// Suspects are the backups a choice by --before refused as possibly
	// planted (see storage.Suspicious), for the caller to show.
	Suspects []storage.Suspect
}

// Choose finds the backup as dr restore does (by name, else the newest
// before a time, else the newest of the configured stack), chooses the first
// destination whose copy's sidecar can be read, and fetches it. Drills
// choose with it, so a drill proves the backup a restore would use.
func Choose(ctx context.Context, cfg *config.Config, dests []*storage.Destination, name string, before time.Time) (*Chosen, error) {
	return chooseCopy(ctx, cfg, dests, Request{Name: name, Before: before})
}

func chooseCopy(ctx context.Context, cfg *config.Config, dests []*storage.Destination, req Request) (*Chosen, error) {
	entry, suspects, err := choose(ctx, cfg, dests, req)
	if err != nil {
		return nil, err
	}
	p := &Chosen{Backup: entry, Copies: copiesOf(dests, entry, req.From), Suspects: suspects}
	if len(p.Copies) == 0 {
		return nil, fmt.Errorf("backup %s is on none of the chosen destinations", entry.Name)
	}
	for _, d := range p.Copies {
		m, err := d.ReadSidecar(ctx, entry.Name)
		if err != nil {
			p.Faults = append(p.Faults, CopyFault{Destination: d.Name(), Err: fmt.Errorf("fetching the manifest: %w", err)})
			continue
		}
		p.Source, p.Manifest = d, m
		return p, nil
	}
	return nil, &NoCopyError{Backup: entry.Name, Faults: p.Faults}
}

// VerifyChosen downloads the whole backup and checks it against the
// sidecar Choose fetched, falling back to the next copy as VerifyPlan does.
func VerifyChosen(ctx context.Context, p *Chosen, ids []age.Identity) error {
	return p.verify(ctx, ids)
}

// verify checks the source's copy; when it cannot be read or does not
// verify, it tries the next copy of the same backup (its sidecar must
// agree with the one chosen) and makes the first that verifies the
// source. When none does, the error is a *NoCopyError listing each copy's
// fault.
func (p *Chosen) verify(ctx context.Context, ids []age.Identity) error {
	copies := p.Copies
	if len(copies) == 0 {
		copies = []*storage.Destination{p.Source}
	}
	start := max(slices.Index(copies, p.Source), 0)
	for _, d := range copies[start:] {
		if d != p.Source {
			m, err := d.ReadSidecar(ctx, p.Backup.Name)
			if err != nil {
				p.Faults = append(p.Faults, CopyFault{Destination: d.Name(), Err: err})
				continue
			}
			if what := archive.Differs(p.Manifest, m); what != "" {
				p.Faults = append(p.Faults, CopyFault{Destination: d.Name(), Err: fmt.Errorf("its sidecar differs in its %s from the one the plan was made from", what)})
				continue
			}
		}
		if _, _, err := verifyAgainst(ctx, d, p.Backup.Name, p.Manifest, ids); err != nil {
			p.Faults = append(p.Faults, CopyFault{Destination: d.Name(), Err: err})
			continue
		}
		p.Source = d
		return nil
	}
	return &NoCopyError{Backup: p.Backup.Name, Faults: p.Faults}
}
