package health

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/appwrite-dr/dr/config"
)

// DestinationStatus is a destination's newest complete backup.
type DestinationStatus struct {
	Name   string    `json:"name"`
	Newest string    `json:"newest,omitempty"`
	Time   time.Time `json:"time,omitzero"`
	Size   int64     `json:"size,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// NextRun is a job's next scheduled run.
type NextRun struct {
	Kind     string    `json:"kind"`
	Schedule string    `json:"schedule"`
	At       time.Time `json:"at"`
}

// Status is what dr status prints and /status serves.
type Status struct {
	Now      time.Time `json:"now"`
	Healthy  bool      `json:"healthy"`
	Problems []string  `json:"problems,omitempty"`
	// Running is the job running now, if any.
	Running              string              `json:"running,omitempty"`
	LastBackup           *Run                `json:"last_backup,omitempty"`
	LastSuccessfulBackup *Run                `json:"last_successful_backup,omitempty"`
	LastDrill            *Run                `json:"last_drill,omitempty"`
	LastVerify           *Run                `json:"last_verify,omitempty"`
	Next                 []NextRun           `json:"next"`
	Destinations         []DestinationStatus `json:"destinations"`
	// MaxAge is twice the backup schedule's interval: a destination whose
	// newest backup is older is a problem. Zero without a backup schedule.
	MaxAge            time.Duration `json:"max_age_ns"`
	UnfinishedRestore string        `json:"unfinished_restore,omitempty"`
}

// Snapshot is the daemon's state at one instant: what its HTTP surface
// reads.
type Snapshot struct {
	Config       *config.Config
	History      History
	Next         map[string]time.Time
	Running      string
	RunningSince time.Time
	// Counts are runs since the daemon started, by kind and outcome.
	Counts       map[string]map[string]int
	Destinations []DestinationStatus
}

// StatusInput is what a status is judged from.
type StatusInput struct {
	Config       *config.Config
	History      *History
	Next         map[string]time.Time // nil: computed from the schedules
	Running      string
	Destinations []DestinationStatus
	// UnfinishedRestore describes a restore that did not finish ("" if none).
	UnfinishedRestore string
	// LeftBehind is what killed runs left (see usecase.LeftBehind): each
	// a problem.
	LeftBehind []string
	Now        time.Time
}

// Evaluate judges the state: unhealthy when the last backup failed (or was
// skipped), when a destination's newest complete backup is older than
// twice the backup schedule's interval (or it has none, or cannot be
// listed), or when a restore is unfinished.
func Evaluate(in StatusInput) Status {
	s := Status{
		Now: in.Now, Running: in.Running, Destinations: in.Destinations,
		LastBackup: in.History.Last(KindBackup), LastSuccessfulBackup: in.History.LastSuccess(KindBackup),
		LastDrill: in.History.Last(KindDrill), LastVerify: in.History.Last(KindVerify), UnfinishedRestore: in.UnfinishedRestore, Next: []NextRun{},
	}
	if s.Destinations == nil {
		s.Destinations = []DestinationStatus{}
	}
	loc := in.Config.Location()
	for _, kind := range Kinds {
		k := struct{ kind, spec string }{kind, Spec(in.Config, kind)}
		if k.spec == "" {
			continue
		}
		sched, err := cron.ParseStandard(k.spec)
		if err != nil {
			continue // config validation already refused it
		}
		at, ok := in.Next[k.kind]
		if in.Next == nil {
			at, ok = sched.Next(in.Now.In(loc)), true
		}
		if ok {
			s.Next = append(s.Next, NextRun{Kind: k.kind, Schedule: k.spec, At: at})
		}
		if k.kind == KindBackup {
			s.MaxAge = 2 * Interval(sched, in.Now.In(loc))
		}
	}

	if b := s.LastBackup; b != nil && b.Outcome != OutcomeSuccess {
		s.Problems = append(s.Problems, fmt.Sprintf("the last backup (%s) %s: %s", b.Started.UTC().Format(time.RFC3339), b.Outcome, b.Error))
	}
	for _, d := range s.Destinations {
		switch {
		case d.Error != "":
			s.Problems = append(s.Problems, fmt.Sprintf("destination %s: %s", d.Name, d.Error))
		case d.Newest == "":
			s.Problems = append(s.Problems, fmt.Sprintf("destination %s holds no complete backup", d.Name))
		case s.MaxAge > 0 && in.Now.Sub(d.Time) > s.MaxAge:
			s.Problems = append(s.Problems, fmt.Sprintf("destination %s: the newest backup %s is %s old, more than twice the schedule's interval (%s)",
				d.Name, d.Newest, in.Now.Sub(d.Time).Round(time.Minute), s.MaxAge.Round(time.Minute)))
		}
	}
	if s.UnfinishedRestore != "" {
		s.Problems = append(s.Problems, s.UnfinishedRestore)
	}
	s.Problems = append(s.Problems, in.LeftBehind...)
	s.Healthy = len(s.Problems) == 0
	return s
}

// Interval is the longest gap between a schedule's next runs after t (a
// few of them, so that "weekdays at 8" is judged by its weekend gap).
func Interval(s cron.Schedule, t time.Time) time.Duration {
	var longest time.Duration
	prev := s.Next(t)
	for range 8 {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		longest = max(longest, next.Sub(prev))
		prev = next
	}
	return longest
}
