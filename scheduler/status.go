package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
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

// StatusInput is what a status is judged from.
type StatusInput struct {
	Config       *config.Config
	History      *History
	Next         map[string]time.Time // nil: computed from the schedules
	Running      string
	Destinations []DestinationStatus
	// UnfinishedRestore describes a restore that did not finish ("" if none).
	UnfinishedRestore string
	// LeftBehind is what killed runs left (see LeftBehind): each a problem.
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

// ListDestinations finds each destination's newest complete backup. A
// destination that cannot be opened or listed is reported in its entry;
// the others are still listed.
func ListDestinations(ctx context.Context, cfg *config.Config) []DestinationStatus {
	out := make([]DestinationStatus, 0, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		st := DestinationStatus{Name: d.Name}
		dests, err := backup.OpenReachable(ctx, cfg, []string{d.Name})
		if err == nil {
			var list []storage.Backup
			list, err = dests[0].List(ctx) // newest first
			if err == nil && len(list) > 0 {
				st.Newest, st.Time, st.Size = list[0].Name, list[0].Time, list[0].Size
			}
		}
		if err != nil {
			st.Error = redact.String(err.Error())
		}
		out = append(out, st)
	}
	return out
}

// UnfinishedRestore describes the restore journal's unfinished restore,
// or returns "".
func UnfinishedRestore(stateDir string) string {
	j, err := restore.Unfinished(stateDir)
	if err != nil {
		return "the restore journal cannot be read: " + redact.String(err.Error())
	}
	if j == nil {
		return ""
	}
	msg := fmt.Sprintf("a restore of %s started %s did not finish (phase: %s)", j.Backup, j.StartedAt.UTC().Format(time.RFC3339), j.Phase)
	if j.Command != "" {
		msg += "; finish it with: " + j.Command
	}
	return msg
}
