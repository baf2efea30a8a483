package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/usecase"
)

// The --json documents are part of dr's interface, as its exit codes are:
// docs/scripting.md describes each, and a field is only ever added.
// Every document is one JSON value on stdout; a failure adds one error
// object on stderr (see errorJSON).

// printJSON writes v as the command's document on stdout.
func printJSON(a *app, what string, v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("printing %s as JSON: %w", what, err)
	}
	return nil
}

// errorJSON is the line a command run with --json ends stderr with when
// it fails, as restic's exit_error: a script reads the exit code and this
// line, whatever else the log said before it.
type errorJSON struct {
	MessageType string `json:"message_type"` // always "exit_error"
	Code        int    `json:"code"`
	Message     string `json:"message"`
}

// failureJSON is one destination that failed or could not be reached.
type failureJSON struct {
	Destination string `json:"destination"`
	Error       string `json:"error"`
}

func failuresJSON(fs []storage.Failure) []failureJSON {
	out := []failureJSON{}
	for _, f := range fs {
		out = append(out, failureJSON{Destination: f.Destination, Error: f.Err.Error()})
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// orEmpty keeps a list a list in JSON ([] rather than null).
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

type backupPlanJSON struct {
	Name          string   `json:"name"`
	Project       string   `json:"project"`
	Kind          string   `json:"kind"`
	Container     string   `json:"container"`
	Image         string   `json:"image"`
	Server        string   `json:"server"`
	Client        string   `json:"client"`
	ClientVersion string   `json:"client_version"`
	Databases     []string `json:"databases"`
	DumpOptions   []string `json:"dump_options"`
	Files         []string `json:"files"`
	Volumes       []string `json:"volumes"`
	Absent        []string `json:"absent_volumes"`
	Stopped       []string `json:"stopped_services"`
	Encrypted     bool     `json:"encrypted"`
	Destinations  []string `json:"destinations"`
	Spooled       []string `json:"spooled_destinations"`
	Warnings      []string `json:"warnings"`
}

func planJSON(p *backup.Plan) backupPlanJSON {
	return backupPlanJSON{
		Name: p.Name, Project: p.Project, Kind: p.Kind, Container: p.Container, Image: p.Image,
		Server: p.Server, Client: p.Client, ClientVersion: p.ClientVersion,
		Databases: orEmpty(p.Databases), DumpOptions: orEmpty(p.DumpOptions), Files: orEmpty(p.Files),
		Volumes: orEmpty(p.Volumes), Absent: orEmpty(p.Absent), Stopped: orEmpty(p.Quiesce),
		Encrypted: p.Encrypted, Destinations: orEmpty(p.Destinations), Spooled: orEmpty(p.Spooled),
		Warnings: orEmpty(p.Warnings),
	}
}

type backupJSON struct {
	Name            string                  `json:"name"`
	RawBytes        int64                   `json:"raw_bytes"`
	ArchiveBytes    int64                   `json:"archive_bytes"`
	DurationSeconds float64                 `json:"duration_seconds"`
	Tables          int                     `json:"tables"`
	Rows            int64                   `json:"rows"`
	Volumes         []backupVolumeJSON      `json:"volumes"`
	Destinations    []backupDestinationJSON `json:"destinations"`
	Pruned          []backupPruneJSON       `json:"pruned"`
	Pins            []pinJSON               `json:"pins,omitempty"`
	Warnings        []string                `json:"warnings"`
}

type backupVolumeJSON struct {
	Name      string `json:"name"`
	Files     int64  `json:"files"`
	Bytes     int64  `json:"bytes"`
	ReadFiles int64  `json:"read_files"`
	ReadBytes int64  `json:"read_bytes"`
}

type backupDestinationJSON struct {
	Name      string `json:"name"`
	Remote    string `json:"remote"`
	Committed bool   `json:"committed"`
	Bytes     int64  `json:"bytes,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Error     string `json:"error,omitempty"`
}

type backupPruneJSON struct {
	Destination  string `json:"destination"`
	Kept         int    `json:"kept"`
	Removed      int    `json:"removed"`
	BlobsRemoved int    `json:"blobs_removed"`
	BlobBytes    int64  `json:"blob_bytes_removed"`
}

func backupDoc(r *usecase.BackupResult) backupJSON {
	out := backupJSON{
		Name: r.Name, RawBytes: r.RawBytes, ArchiveBytes: r.ArchiveBytes,
		DurationSeconds: r.Duration.Seconds(),
		Volumes:         []backupVolumeJSON{}, Destinations: []backupDestinationJSON{},
		Pruned: []backupPruneJSON{}, Warnings: orEmpty(r.Warnings),
	}
	if r.Manifest != nil {
		out.Tables, out.Rows = r.Manifest.Database.Counts()
		for _, v := range r.Manifest.Volumes {
			out.Volumes = append(out.Volumes, backupVolumeJSON{Name: v.Name, Files: v.Files, Bytes: v.Bytes, ReadFiles: v.ReadFiles, ReadBytes: v.ReadBytes})
		}
	}
	for _, d := range r.Destinations {
		dj := backupDestinationJSON{Name: d.Name, Remote: d.Remote, Committed: d.Err == nil, Error: errString(d.Err)}
		if d.Err == nil {
			dj.Bytes, dj.SHA256 = d.Size, d.SHA256
		}
		out.Destinations = append(out.Destinations, dj)
	}
	for _, p := range r.Prune {
		pj := backupPruneJSON{Destination: p.Destination, Kept: len(p.Decisions) - p.Removed(), Removed: p.Removed()}
		for _, b := range p.Blobs {
			pj.BlobsRemoved += b.Deleted
			pj.BlobBytes += b.DeleteBytes
		}
		out.Pruned = append(out.Pruned, pj)
	}
	for _, p := range r.Pins {
		out.Pins = append(out.Pins, pinOutcomeJSON(r.Name, r.Note, p))
	}
	return out
}

type pinJSON struct {
	Destination   string `json:"destination"`
	Backup        string `json:"backup"`
	AlreadyPinned bool   `json:"already_pinned,omitempty"`
	// Note is the note the pin holds (a pin that stood keeps its own).
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// pinOutcomeJSON is one destination's pin: the note it holds is the
// standing pin's when one stood, else the one just written (none when the
// pin failed, or on an unpin, whose note is "").
func pinOutcomeJSON(name, note string, p usecase.PinOutcome) pinJSON {
	pj := pinJSON{Destination: p.Destination, Backup: name, Error: errString(p.Err)}
	switch {
	case p.Existing != nil:
		pj.AlreadyPinned, pj.Note = true, p.Existing.Note
	case p.Err == nil:
		pj.Note = note
	}
	return pj
}

type pinResultJSON struct {
	Backup       string        `json:"backup"`
	Action       string        `json:"action"` // pin or unpin
	Note         string        `json:"note,omitempty"`
	Destinations []pinJSON     `json:"destinations"`
	Unreachable  []failureJSON `json:"unreachable"`
}

func pinResultDoc(r *usecase.PinResult) pinResultJSON {
	out := pinResultJSON{Backup: r.Backup, Action: "pin", Note: r.Note, Destinations: []pinJSON{}, Unreachable: failuresJSON(r.Unreachable)}
	if r.Unpin {
		out.Action = "unpin"
	}
	for _, p := range r.Pins {
		out.Destinations = append(out.Destinations, pinOutcomeJSON(r.Backup, r.Note, p))
	}
	return out
}

type verifyJSON struct {
	Backup      string           `json:"backup"`
	OK          bool             `json:"ok"`
	Copies      []verifyCopyJSON `json:"copies"`
	Unreachable []failureJSON    `json:"unreachable"`
}

type verifyCopyJSON struct {
	Destination string  `json:"destination"`
	OK          bool    `json:"ok"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	Error       string  `json:"error,omitempty"`
}

func verifyDoc(r *usecase.VerifyResult) verifyJSON {
	out := verifyJSON{Backup: r.Backup, OK: len(r.Copies) > 0, Copies: []verifyCopyJSON{}, Unreachable: failuresJSON(r.Unreachable)}
	for _, c := range r.Copies {
		out.Copies = append(out.Copies, copyJSON(c))
		if c.Err != nil {
			out.OK = false
		}
	}
	return out
}

func copyJSON(c restore.CopyReport) verifyCopyJSON {
	return verifyCopyJSON{Destination: c.Destination, OK: c.Err == nil, Bytes: c.Bytes, Seconds: c.Duration.Round(time.Millisecond).Seconds(), Error: errString(c.Err)}
}

// restoreJSON is dr restore --json's document: the plan, and what the
// restore did (null on --dry-run, or when it stopped before it began).
type restoreJSON struct {
	Plan   restorePlanJSON    `json:"plan"`
	DryRun bool               `json:"dry_run"`
	Result *restoreResultJSON `json:"result"`
}

type restorePlanJSON struct {
	Backup      string            `json:"backup"`
	Time        time.Time         `json:"time"`
	Source      string            `json:"source"`
	Parts       []string          `json:"parts"`
	Suspects    []suspectJSON     `json:"refused_as_suspicious"`
	Databases   []string          `json:"databases"`
	Tables      int               `json:"tables"`
	Rows        int64             `json:"rows"`
	SafetyNet   string            `json:"safety_net"`
	SafetyDump  bool              `json:"safety_dump"`
	Files       []restoreFileJSON `json:"files"`
	Volumes     []restoreVolJSON  `json:"volumes"`
	Merge       bool              `json:"merge"`
	Stopped     []string          `json:"stopped_services"`
	Interrupted string            `json:"interrupted,omitempty"`
}

// suspectJSON is a backup the choice refused as possibly planted.
type suspectJSON struct {
	Backup string `json:"backup"`
	Reason string `json:"reason"`
}

type restoreFileJSON struct {
	Target string `json:"target"`
	Exists bool   `json:"exists"`
}

type restoreVolJSON struct {
	Name   string `json:"name"`
	Docker string `json:"docker_name"`
	Exists bool   `json:"exists"`
	Files  int64  `json:"files"`
	Bytes  int64  `json:"bytes"`
}

type restoreResultJSON struct {
	Backup          string   `json:"backup"`
	SafetyDump      string   `json:"safety_dump,omitempty"`
	Aside           []string `json:"aside_schemas"`
	AsideFallback   string   `json:"aside_fallback,omitempty"`
	AsideDropped    []string `json:"aside_dropped"`
	Files           []string `json:"files"`
	Volumes         []string `json:"volumes"`
	TablesChecked   int      `json:"tables_checked"`
	Stopped         []string `json:"stopped_services"`
	Inherited       []string `json:"started_for_an_interrupted_restore"`
	Warnings        []string `json:"warnings"`
	DurationSeconds float64  `json:"duration_seconds"`
}

func restoreDoc(p *restore.Plan, r *restore.Result, dryRun bool) restoreJSON {
	pj := restorePlanJSON{
		Backup: p.Backup.Name, Time: p.Backup.Time.UTC(), Parts: orEmpty(p.Parts), Suspects: []suspectJSON{},
		Databases: orEmpty(nil), Files: []restoreFileJSON{}, Volumes: []restoreVolJSON{}, Merge: p.Merge,
		Stopped: orEmpty(p.Stop), SafetyNet: p.SafetyNet,
	}
	if p.Source != nil {
		pj.Source = p.Source.Name()
	}
	for _, s := range p.Suspects {
		pj.Suspects = append(pj.Suspects, suspectJSON{Backup: s.Backup, Reason: s.Reason})
	}
	if p.Has(restore.PartDB) {
		pj.Databases, pj.Tables, pj.Rows = orEmpty(p.Databases), p.Tables, p.Rows
		pj.SafetyDump = !p.NoSafetyDump
	}
	for _, f := range p.Files {
		pj.Files = append(pj.Files, restoreFileJSON{Target: f.Target, Exists: f.Exists})
	}
	for _, v := range p.Volumes {
		pj.Volumes = append(pj.Volumes, restoreVolJSON{Name: v.Key, Docker: v.Docker, Exists: v.Exists, Files: v.Files, Bytes: v.Bytes})
	}
	if p.Interrupted != nil {
		pj.Interrupted = p.Interrupted.Describe()
	}
	out := restoreJSON{Plan: pj, DryRun: dryRun}
	if r != nil {
		rj := &restoreResultJSON{
			Backup: r.Backup, SafetyDump: r.SafetyDump, Aside: []string{}, AsideFallback: r.AsideFallback,
			AsideDropped: orEmpty(r.AsideDropped), Files: []string{}, Volumes: orEmpty(r.Volumes),
			TablesChecked: r.TablesChecked, Stopped: orEmpty(r.Stopped), Inherited: orEmpty(r.Inherited),
			Warnings: orEmpty(r.Warnings), DurationSeconds: r.Duration.Seconds(),
		}
		if r.Aside != nil {
			rj.Aside = r.Aside.Names()
		}
		for _, f := range r.Files {
			rj.Files = append(rj.Files, f.Target)
		}
		out.Result = rj
	}
	return out
}
