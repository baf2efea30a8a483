package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/internal/humanize"
)

// progressPrinter draws one self-overwriting status line on a terminal and
// stays silent elsewhere (logs carry the story there).
type progressPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	drawn   bool
}

func newProgressPrinter(w io.Writer, terminal bool) *progressPrinter {
	return &progressPrinter{w: w, enabled: terminal}
}

func (p *progressPrinter) update(pr backup.Progress) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.DumpBytes+pr.VolumeBytes) / s
	}
	var dests []string
	for name, n := range pr.Sent {
		dests = append(dests, name+" "+humanize.Bytes(n))
	}
	sort.Strings(dests)
	fmt.Fprintf(p.w, "\r\033[K%-7s dumped %s, volumes %s (%s/s), sent: %s, %s",
		pr.Phase, humanize.Bytes(pr.DumpBytes), humanize.Bytes(pr.VolumeBytes), humanize.Bytes(int64(rate)), strings.Join(dests, ", "), pr.Elapsed.Round(time.Second))
	p.drawn = true
}

func (p *progressPrinter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
