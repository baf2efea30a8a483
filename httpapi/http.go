// Package httpapi is the daemon's HTTP surface: /healthz for probes,
// Prometheus /metrics, /status as JSON and a status page, behind an
// optional bearer token. It reads the daemon through Source, so it knows
// the daemon's records (package health) and not the daemon.
package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/internal/humanize"
)

// Source is what the HTTP endpoints read; the daemon (*scheduler.Daemon)
// is one.
type Source interface {
	Status(ctx context.Context) health.Status
	Snapshot() health.Snapshot
}

// Handler serves /healthz, /metrics, /status and the status page. With a
// token, every endpoint but /healthz needs "Authorization: Bearer TOKEN".
func Handler(src Source, token, version string) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{src: src, version: version},
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := src.Status(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !st.Healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
			// Problems can name a destination, never a credential: they
			// are redacted when recorded. Still, without a token the
			// detail stays behind /status.
			fmt.Fprintln(w, "unhealthy")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	auth := func(h http.Handler) http.Handler {
		if token == "" {
			return h
		}
		want := []byte("Bearer " + token)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("GET /metrics", auth(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	mux.Handle("GET /status", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(src.Status(r.Context()))
	})))
	mux.Handle("GET /{$}", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_ = page.Execute(w, pageData(src.Status(r.Context()), src.Snapshot()))
	})))
	return mux
}

// collector turns the daemon's state into metrics at scrape time, named
// as backup exporters and their alert rules expect: timestamps in seconds
// since the epoch, durations in seconds, sizes in bytes.
type collector struct {
	src     Source
	version string
}

var (
	descLastRun     = prometheus.NewDesc("dr_job_last_run_timestamp_seconds", "When the job's last run ended.", []string{"kind"}, nil)
	descLastSuccess = prometheus.NewDesc("dr_job_last_success_timestamp_seconds", "When the job last succeeded.", []string{"kind"}, nil)
	descLastStatus  = prometheus.NewDesc("dr_job_last_status", "1 if the job's last run succeeded, 0 if it failed or was skipped.", []string{"kind"}, nil)
	descDuration    = prometheus.NewDesc("dr_job_last_duration_seconds", "How long the job's last run took.", []string{"kind"}, nil)
	descRuns        = prometheus.NewDesc("dr_job_runs_total", "Runs since the daemon started, by result.", []string{"kind", "result"}, nil)
	descNext        = prometheus.NewDesc("dr_job_next_run_timestamp_seconds", "When the job runs next.", []string{"kind"}, nil)
	descRunning     = prometheus.NewDesc("dr_job_running", "1 while the job runs.", []string{"kind"}, nil)
	descSize        = prometheus.NewDesc("dr_backup_last_size_bytes", "Archive size of the last successful backup.", nil, nil)
	descLacks       = prometheus.NewDesc("dr_backup_last_missing_objects", "What the last backup could not hold (views it left out, histories it could not dump): a restore of it lacks them.", nil, nil)
	descDestLast    = prometheus.NewDesc("dr_backup_destination_last_status", "1 if the last backup committed on the destination.", []string{"destination"}, nil)
	descNewest      = prometheus.NewDesc("dr_destination_newest_backup_timestamp_seconds", "When the destination's newest complete backup was taken.", []string{"destination"}, nil)
	descAge         = prometheus.NewDesc("dr_destination_newest_backup_age_seconds", "Age of the destination's newest complete backup.", []string{"destination"}, nil)
	descNewestSize  = prometheus.NewDesc("dr_destination_newest_backup_size_bytes", "Size of the destination's newest complete backup.", []string{"destination"}, nil)
	descListOK      = prometheus.NewDesc("dr_destination_up", "1 if the destination could be listed.", []string{"destination"}, nil)
	descDrillRTO    = prometheus.NewDesc("dr_drill_last_rto_seconds", "Time from the newest drill that restored its database until the database was back.", nil, nil)
	descDrillRTOAt  = prometheus.NewDesc("dr_drill_last_rto_timestamp_seconds", "When the drill that measured dr_drill_last_rto_seconds ended.", nil, nil)
	descDrillAge    = prometheus.NewDesc("dr_drill_last_backup_age_seconds", "Age of the backup the last drill tested, when the drill started.", nil, nil)
	descDrillFailed = prometheus.NewDesc("dr_drill_last_failed_checks", "Checks the last drill failed.", nil, nil)
	descDrillChecks = prometheus.NewDesc("dr_drill_last_checks", "Checks the last drill ran.", nil, nil)
	descUnfinished  = prometheus.NewDesc("dr_restore_unfinished", "1 while a restore is unfinished.", nil, nil)
	descHealthy     = prometheus.NewDesc("dr_healthy", "1 when dr status would exit 0.", nil, nil)
	descBuild       = prometheus.NewDesc("dr_build_info", "dr's version.", []string{"version", "goversion"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.src.Snapshot()
	st := c.src.Status(context.Background())
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ts := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, kind := range health.Kinds {
		if last := snap.History.Last(kind); last != nil {
			gauge(descLastRun, ts(last.Ended), kind)
			gauge(descLastStatus, b2f(last.Outcome == health.OutcomeSuccess), kind)
			gauge(descDuration, last.Duration.Seconds(), kind)
		}
		if ok := snap.History.LastSuccess(kind); ok != nil {
			gauge(descLastSuccess, ts(ok.Ended), kind)
			if kind == health.KindBackup {
				gauge(descSize, float64(ok.Bytes))
			}
		}
		for _, result := range []string{health.OutcomeSuccess, health.OutcomeFailed, health.OutcomeSkipped} {
			ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, float64(snap.Counts[kind][result]), kind, result)
		}
		if next, ok := snap.Next[kind]; ok {
			gauge(descNext, ts(next), kind)
		}
		gauge(descRunning, b2f(snap.Running == kind), kind)
	}
	if last := snap.History.Last(health.KindBackup); last != nil {
		gauge(descLacks, float64(len(last.Lacks)))
		for _, d := range last.Destinations {
			gauge(descDestLast, b2f(d.Error == "" && last.Outcome != health.OutcomeSkipped), d.Name)
		}
	}
	for _, d := range st.Destinations {
		gauge(descListOK, b2f(d.Error == ""), d.Name)
		if d.Newest != "" {
			gauge(descNewest, ts(d.Time), d.Name)
			gauge(descAge, st.Now.Sub(d.Time).Seconds(), d.Name)
			gauge(descNewestSize, float64(d.Size), d.Name)
		}
	}
	if last := snap.History.Last(health.KindDrill); last != nil && last.Drill != nil {
		gauge(descDrillAge, last.Drill.BackupAgeSeconds)
		gauge(descDrillFailed, float64(len(last.Drill.Failed)))
		gauge(descDrillChecks, float64(last.Drill.Checks))
	}
	if r := snap.History.LastDrillRTO(); r != nil {
		gauge(descDrillRTO, r.Drill.RTOSeconds)
		gauge(descDrillRTOAt, ts(r.Ended))
	}
	gauge(descUnfinished, b2f(st.UnfinishedRestore != ""))
	gauge(descHealthy, b2f(st.Healthy))
	gauge(descBuild, 1, c.version, runtime.Version())
}

// bar is one run in the page's charts.
type bar struct {
	X, W, H, Y float64
	Color      string
	Title      string
}

type pageView struct {
	Status               health.Status
	SizeBars, TimeBars   []bar
	Runs                 []health.Run
	ChartW, ChartH       float64
	MaxSize, MaxDuration string
	// DrillBars are the drills' RTOs; Drills the drills, newest first.
	DrillBars []bar
	Drills    []health.Run
	MaxRTO    string
}

// Chart colours. The drill colour is used nowhere else on the page, so a
// screenshot's pixels of it are the drill chart.
const (
	colorSuccess = "#2e7d32"
	colorFailed  = "#c62828"
	colorSkipped = "#f9a825"
	colorDrill   = "#1565c0"
)

// chartRuns is how many runs a chart shows.
const chartRuns = 60

// pageData lays out the last backups as bars: height is size (or
// duration), colour the outcome.
func pageData(st health.Status, snap health.Snapshot) pageView {
	var backups []health.Run
	for _, r := range snap.History.Runs {
		if r.Kind == health.KindBackup {
			backups = append(backups, r)
		}
	}
	if len(backups) > chartRuns {
		backups = backups[len(backups)-chartRuns:]
	}
	v := pageView{Status: st, ChartW: 480, ChartH: 120}
	var maxSize int64
	var maxDur time.Duration
	for _, r := range backups {
		maxSize, maxDur = max(maxSize, r.Bytes), max(maxDur, r.Duration)
	}
	v.MaxSize, v.MaxDuration = humanize.Bytes(maxSize), maxDur.Round(time.Second).String()
	w := v.ChartW / chartRuns
	for i, r := range backups {
		color := colorSuccess
		if r.Outcome == health.OutcomeFailed {
			color = colorFailed
		} else if r.Outcome == health.OutcomeSkipped {
			color = colorSkipped
		}
		title := fmt.Sprintf("%s %s %s %s", r.Started.UTC().Format(time.RFC3339), r.Outcome, humanize.Bytes(r.Bytes), r.Duration.Round(time.Second))
		hs, hd := 4.0, 4.0 // a failed run still shows
		if maxSize > 0 {
			hs = max(hs, v.ChartH*float64(r.Bytes)/float64(maxSize))
		}
		if maxDur > 0 {
			hd = max(hd, v.ChartH*float64(r.Duration)/float64(maxDur))
		}
		x := float64(i) * w
		v.SizeBars = append(v.SizeBars, bar{X: x, W: w * 0.8, H: hs, Y: v.ChartH - hs, Color: color, Title: title})
		v.TimeBars = append(v.TimeBars, bar{X: x, W: w * 0.8, H: hd, Y: v.ChartH - hd, Color: color, Title: title})
	}
	drillChart(&v, snap.History.Runs)
	runs := snap.History.Runs
	if len(runs) > 20 {
		runs = runs[len(runs)-20:]
	}
	for i := len(runs) - 1; i >= 0; i-- {
		v.Runs = append(v.Runs, runs[i])
	}
	return v
}

// drillChart lays out the last drills as bars whose height is the RTO:
// blue when every check passed, red when the drill failed (a drill that
// never restored its database still shows, at the minimum height).
func drillChart(v *pageView, all []health.Run) {
	var drills []health.Run
	for _, r := range all {
		if r.Kind == health.KindDrill {
			drills = append(drills, r)
		}
	}
	if len(drills) > chartRuns {
		drills = drills[len(drills)-chartRuns:]
	}
	var maxRTO float64
	for _, r := range drills {
		if r.Drill != nil {
			maxRTO = max(maxRTO, r.Drill.RTOSeconds)
		}
	}
	v.MaxRTO = rtoString(maxRTO)
	w := v.ChartW / chartRuns
	for i, r := range drills {
		color, rto := colorDrill, 0.0
		if r.Drill != nil {
			rto = r.Drill.RTOSeconds
		}
		if r.Outcome != health.OutcomeSuccess {
			color = colorFailed
		}
		h := 4.0
		if maxRTO > 0 {
			h = max(h, v.ChartH*rto/maxRTO)
		}
		title := fmt.Sprintf("%s %s %s RTO %s", r.Started.UTC().Format(time.RFC3339), r.Backup, r.Outcome, rtoString(rto))
		v.DrillBars = append(v.DrillBars, bar{X: float64(i) * w, W: w * 0.8, H: h, Y: v.ChartH - h, Color: color, Title: title})
	}
	for i := len(drills) - 1; i >= 0 && len(v.Drills) < 10; i-- {
		v.Drills = append(v.Drills, drills[i])
	}
}

// rtoString prints seconds as a duration, "-" for none measured.
func rtoString(s float64) string {
	if s <= 0 {
		return "-"
	}
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"bytes": humanize.Bytes,
	"dur":   func(d time.Duration) string { return d.Round(time.Second).String() },
	"join":  strings.Join,
	"rto":   rtoString,
	"age":   func(s float64) string { return time.Duration(s * float64(time.Second)).Round(time.Minute).String() },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>dr status</title>
<style>body{font-family:sans-serif;margin:2em;max-width:72em}.charts{display:flex;flex-wrap:wrap;gap:0 2em}h2{font-size:1.2em}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
.ok{color:#2e7d32}.bad{color:#c62828}svg{background:#fafafa;border:1px solid #ddd}</style></head><body>
<h1>dr status: {{if .Status.Healthy}}<span class="ok">healthy</span>{{else}}<span class="bad">unhealthy</span>{{end}}</h1>
{{with .Status.Problems}}<ul>{{range .}}<li class="bad">{{.}}</li>{{end}}</ul>{{end}}
{{with .Status.Running}}<p>Running now: {{.}}</p>{{end}}
<h2>Next runs</h2><table>{{range .Status.Next}}<tr><td>{{.Kind}}</td><td>{{ts .At}}</td><td><code>{{.Schedule}}</code></td></tr>{{end}}</table>
<h2>Destinations</h2><table><tr><th>destination</th><th>newest complete backup</th><th>taken</th><th>size</th></tr>
{{range .Status.Destinations}}<tr><td>{{.Name}}</td>{{if .Error}}<td class="bad" colspan="3">{{.Error}}</td>{{else}}<td>{{.Newest}}</td><td>{{if .Newest}}{{ts .Time}}{{end}}</td><td>{{if .Newest}}{{bytes .Size}}{{end}}</td>{{end}}</tr>{{end}}</table>
<div class="charts"><div><h2>Backups: archive size (max {{.MaxSize}})</h2>
<svg id="size-chart" width="{{.ChartW}}" height="{{.ChartH}}" viewBox="0 0 {{.ChartW}} {{.ChartH}}" role="img" aria-label="backup sizes">{{range .SizeBars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}</svg>
</div><div><h2>Backups: duration (max {{.MaxDuration}})</h2>
<svg id="duration-chart" width="{{.ChartW}}" height="{{.ChartH}}" viewBox="0 0 {{.ChartW}} {{.ChartH}}" role="img" aria-label="backup durations">{{range .TimeBars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}</svg></div></div>
<h2>Drills: time to restore the database (RTO, max {{.MaxRTO}})</h2>
{{if .DrillBars}}<div class="charts"><svg id="drill-chart" width="{{.ChartW}}" height="{{.ChartH}}" viewBox="0 0 {{.ChartW}} {{.ChartH}}" role="img" aria-label="drill RTOs">{{range .DrillBars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}</svg>
<table><tr><th>drill started</th><th>backup</th><th>outcome</th><th>RTO</th><th>backup age</th><th>checks</th></tr>
{{range .Drills}}<tr><td>{{ts .Started}}</td><td>{{.Backup}}</td><td class="{{if eq .Outcome "success"}}ok{{else}}bad{{end}}">{{.Outcome}}</td>{{with .Drill}}<td>{{rto .RTOSeconds}}</td><td>{{age .BackupAgeSeconds}}</td><td>{{if .Failed}}<span class="bad">failed: {{join .Failed ", "}}</span>{{else if .Passed}}{{.Checks}} passed{{else}}{{.Checks}} run{{end}}</td>{{else}}<td colspan="3">{{.Error}}</td>{{end}}</tr>{{end}}</table></div>
{{else}}<p>No drill recorded yet.</p>{{end}}
<h2>Recent runs</h2><table><tr><th>job</th><th>started</th><th>trigger</th><th>outcome</th><th>duration</th><th>backup</th><th>error</th></tr>
{{range .Runs}}<tr><td>{{.Kind}}</td><td>{{ts .Started}}</td><td>{{.Trigger}}</td><td class="{{if eq .Outcome "success"}}ok{{else}}bad{{end}}">{{.Outcome}}</td><td>{{dur .Duration}}</td><td>{{.Backup}}{{if .Bytes}} ({{bytes .Bytes}}){{end}}</td><td>{{.Error}}</td></tr>{{end}}</table>
</body></html>
`))
