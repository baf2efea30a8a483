package onboard

import (
	"context"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/scan"
)

// checkScan asks the configured clamd for an answer: a drill's scan check
// and the hacked runbook fail without one. Without scan.clamd there is
// nothing to check, and no line.
func checkScan(ctx context.Context, r *Report, opts DoctorOptions) {
	cfg := opts.Config
	if !cfg.Scan.Enabled() {
		return
	}
	const name = "malware scan"
	fix := "start clamd (apt-get install clamav-daemon listens on unix:/run/clamav/clamd.ctl) or fix scan.clamd; drills and dr runbook run hacked fail until it answers"
	ctx, cancel := context.WithTimeout(ctx, opts.RemoteTimeout)
	defer cancel()
	var eng scan.Engine
	if addr, err := cfg.Scan.Address(); err == nil && addr.Kind == config.ClamdContainer {
		e, done, err := opts.Connect(ctx)
		if err != nil {
			r.add(Check{Name: name, Status: StatusSkip, Detail: "not checked: no engine to reach " + cfg.Scan.Clamd})
			return
		}
		defer done()
		eng = e
	}
	s, err := scan.Open(ctx, cfg, eng)
	if err != nil {
		r.add(Check{Name: name, Status: StatusFail, Detail: err.Error(), Fix: fix})
		return
	}
	r.add(Check{Name: name, Status: StatusOK, Detail: "clamd at " + s.String() + " answers; " + strings.Join(cfg.Scan.Volumes, ", ") + " are scanned by drills and the hacked runbook"})
}
