package scan

import (
	"context"
	"fmt"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

// Engine is what a container:SERVICE scanner needs from the engine.
type Engine interface {
	Execer
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
}

// Open returns the scanner scan.clamd names and checks that it answers;
// a scanner that does not is an error, never a pass. It returns nil, nil
// when scan.clamd is not set.
func Open(ctx context.Context, cfg *config.Config, eng Engine) (Scanner, error) {
	if !cfg.Scan.Enabled() {
		return nil, nil
	}
	addr, err := cfg.Scan.Address()
	if err != nil {
		return nil, fmt.Errorf("scan.clamd: %w", err)
	}
	var s Scanner
	switch addr.Kind {
	case config.ClamdUnix, config.ClamdTCP:
		s = NewClamd(addr.Kind, addr.Target)
	case config.ClamdContainer:
		stack, err := eng.FindStack(ctx, cfg.Stack.Project, cfg.Stack.Database.Service)
		if err != nil {
			return nil, &UnreachableError{Addr: addr.String(), Err: err}
		}
		c, ok := stack.Service(addr.Target)
		if !ok || !c.Running {
			return nil, &UnreachableError{Addr: addr.String(), Err: fmt.Errorf("service %s of project %s is not running", addr.Target, stack.Project),
				Hint: "start it (docker compose up -d " + addr.Target + "), or on a fresh host point scan.clamd at this host's clamd (apt-get install clamav-daemon; unix:/run/clamav/clamd.ctl)"}
		}
		s = NewExec(eng, c.ID, addr.Target)
	default:
		return nil, fmt.Errorf("scan.clamd: unknown kind %q", addr.Kind)
	}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}
