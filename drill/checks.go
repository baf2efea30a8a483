package drill

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore"
)

// streamed is what one pass over the archive found besides the import.
type streamed struct {
	chunks  int
	volumes Check
	scan    Check
	// env is the archived .env, nil when the backup holds none.
	env []byte
}

// stream reads the archive once: the dump chunks go to the import shared
// with dr restore, every volume file is hashed on the way past (nothing
// is extracted to disk), and the archived .env is kept for its check.
func (d *driller) stream(ctx context.Context, srv dbServer) (st *streamed, err error) {
	p := d.chosen
	rc, err := p.Source.Open(ctx, p.Backup.Name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	plain, closeDec, err := archive.Decompress(rc, p.Backup.Encrypted, d.req.Identities)
	if err != nil {
		return nil, err
	}
	defer closeDec()
	imp := srv.importer(ctx)
	defer imp.Close()
	defer func() {
		if err != nil {
			imp.Abort(err)
		}
	}()
	st = &streamed{}
	sc := d.startScan(ctx)
	var files, bytes int64
	var damaged []string
	ar := archive.NewReader(ctx, plain, p.Manifest, archive.ReaderOptions{Identities: d.req.Identities, Blobs: p.Source})
	defer ar.Close()
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w", err)
		}
		if imp.Active() && item.Kind != archive.ItemDumpChunk {
			if err := imp.Finish(); err != nil {
				return nil, err
			}
		}
		switch {
		case item.Kind == archive.ItemDumpChunk:
			if err := imp.Chunk(ctx, item, ar); err != nil {
				return nil, err
			}
		case item.Name == archive.ComposePrefix+".env":
			data, err := io.ReadAll(io.LimitReader(ar, maxEnvSize+1))
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", item.Name, err)
			}
			st.env = data
		case item.Kind == archive.ItemVolume && item.Header.Typeflag == tar.TypeReg:
			// The reader checks the content (from the archive or its
			// blob) against the manifest as it is hashed and scanned.
			n, err := sc.readAndScan(ctx, item.Name, ar)
			files++
			bytes += n
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				damaged = append(damaged, err.Error())
			}
		}
	}
	if err := imp.Finish(); err != nil {
		return nil, err
	}
	st.chunks = imp.Chunks()
	st.scan = sc.check()
	var want int64
	for _, v := range p.Manifest.Volumes {
		want += v.Files
	}
	st.volumes = Check{Name: CheckVolumes, Figures: map[string]int64{"files": files, "bytes": bytes}}
	switch {
	case len(damaged) > 0:
		st.volumes.Detail = strings.Join(damaged, "; ")
	case files != want:
		st.volumes.Detail = fmt.Sprintf("%d volume files in the archive, the manifest lists %d", files, want)
	case len(p.Manifest.Volumes) == 0:
		st.volumes.Passed, st.volumes.Skipped, st.volumes.Detail = true, true, "the backup holds no volume"
	default:
		st.volumes.Passed = true
		st.volumes.Detail = fmt.Sprintf("%d files in %d volumes match their sha256", files, len(p.Manifest.Volumes))
	}
	return st, nil
}

// checkDisk compares the room left where the drill's datadir lives with
// the dump's size, before a byte is imported.
func (d *driller) checkDisk(ctx context.Context, id string, df []string) Check {
	c := Check{Name: CheckDisk}
	var out strings.Builder
	res, err := d.eng.Exec(ctx, id, engine.ExecOptions{Cmd: df, Stdout: &out, StderrLimit: 4 << 10})
	if err == nil {
		err = res.Err("df")
	}
	if err != nil {
		c.Detail = "measuring the free disk of the drill container: " + err.Error()
		return c
	}
	free, err := parseDfAvail(out.String())
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	need := diskFactor * d.chosen.Manifest.Database.DumpSize
	c.Figures = map[string]int64{"free_bytes": free, "needed_bytes": need}
	return diskVerdict(c, free, need)
}

func diskVerdict(c Check, free, need int64) Check {
	if free < need {
		c.Detail = fmt.Sprintf("the engine's disk has %s free, the drill needs %s (%d× the dump); free space under the Docker root dir and drill again",
			humanize.Bytes(free), humanize.Bytes(need), diskFactor)
		return c
	}
	c.Passed = true
	c.Detail = fmt.Sprintf("%s free, %s needed", humanize.Bytes(free), humanize.Bytes(need))
	return c
}

// parseDfAvail reads the available bytes from POSIX df -Pk output.
func parseDfAvail(out string) (int64, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return 0, fmt.Errorf("reading df's answer: %q", out)
	}
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 4 {
		return 0, fmt.Errorf("reading df's answer: %q", out)
	}
	kb, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading df's answer: %q", out)
	}
	return kb << 10, nil
}

func (d *driller) checkTables(ctx context.Context, srv *mariadb.Server) {
	wrong, checked, err := restore.CompareRows(ctx, srv, d.chosen.Manifest.Database)
	c := Check{Name: CheckTables, Figures: map[string]int64{"tables": int64(checked)}}
	switch {
	case err != nil:
		c.Detail = err.Error()
	case len(wrong) > 0:
		c.Detail = strings.Join(wrong, "; ")
	default:
		var rows int64
		for _, t := range d.chosen.Manifest.Database.Tables {
			rows += t.Rows
		}
		c.Figures["rows"] = rows
		c.Passed = true
		c.Detail = fmt.Sprintf("%d tables, %d rows, as the manifest says", checked, rows)
	}
	d.add(c)
}

// checkTableHealth runs CHECK TABLE on every table, a batch at a time.
func (d *driller) checkTableHealth(ctx context.Context, srv *mariadb.Server) {
	var names []string
	for _, t := range d.chosen.Manifest.Database.Tables {
		if !t.View {
			names = append(names, mariadb.QuoteIdent(t.Database)+"."+mariadb.QuoteIdent(t.Name))
		}
	}
	c := Check{Name: CheckCheckTable, Figures: map[string]int64{"tables": int64(len(names))}}
	var bad []string
	for len(names) > 0 {
		n := min(len(names), 50)
		rows, err := srv.Query(ctx, "CHECK TABLE "+strings.Join(names[:n], ", "))
		names = names[n:]
		if err != nil {
			c.Detail = err.Error()
			d.add(c)
			return
		}
		bad = append(bad, checkTableProblems(rows)...)
	}
	if len(bad) > 0 {
		c.Detail = strings.Join(bad, "; ")
	} else {
		c.Passed = true
		c.Detail = "every table is OK"
	}
	d.add(c)
}

// checkTableProblems lists each table CHECK TABLE's rows say is not
// fine, as "db.table: problem", sorted.
func checkTableProblems(rows [][]string) []string {
	var bad []string
	for table, problem := range mariadb.CheckProblems(rows) {
		bad = append(bad, table+": "+problem)
	}
	slices.Sort(bad)
	return bad
}

func (d *driller) checkViews(ctx context.Context, srv *mariadb.Server) {
	var want []string
	var dbs []string
	for _, t := range d.chosen.Manifest.Database.Tables {
		if t.View {
			want = append(want, t.Database+"."+t.Name)
			dbs = append(dbs, t.Database)
		}
	}
	c := Check{Name: CheckViews, Figures: map[string]int64{"views": int64(len(want))}}
	// The views the backup left out are not expected back; the detail
	// names them, so a passed check never reads as "every view".
	var leftOut []string
	for _, o := range d.chosen.Manifest.Database.Omitted {
		if o.Kind == archive.OmittedView {
			leftOut = append(leftOut, o.Database+"."+o.Name)
		}
	}
	defer func() {
		if len(leftOut) > 0 {
			c.Figures["left_out"] = int64(len(leftOut))
			c.Detail += fmt.Sprintf("; %d view(s) the backup left out, broken when it was made, are missing: %s", len(leftOut), strings.Join(leftOut, ", "))
		}
		d.add(c)
	}()
	if len(want) == 0 {
		c.Passed, c.Skipped, c.Detail = true, true, "the backup holds no view"
		return
	}
	rows, err := srv.Query(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN ("+mariadb.SQLList(dbs)+")")
	if err != nil {
		c.Detail = err.Error()
		return
	}
	have := map[string]bool{}
	for _, r := range rows {
		if len(r) == 2 {
			have[r[0]+"."+r[1]] = true
		}
	}
	var missing []string
	for _, v := range want {
		if !have[v] {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		c.Detail = "missing: " + strings.Join(missing, ", ")
	} else {
		c.Passed = true
		c.Detail = fmt.Sprintf("all %d views present", len(want))
	}
}

// checkObjects looks for the manifest's triggers, procedures, functions
// and events in the restored server. A backup made before dr recorded them
// has none listed, and the check says so rather than passing silently.
func (d *driller) checkObjects(ctx context.Context, srv *mariadb.Server) {
	db := d.chosen.Manifest.Database
	c := Check{Name: CheckObjects, Figures: map[string]int64{"objects": int64(len(db.Objects))}}
	if len(db.Objects) == 0 {
		c.Passed, c.Skipped, c.Detail = true, true, "the backup records no trigger, routine or event"
		d.add(c)
		return
	}
	var dbs []string
	for _, o := range db.Objects {
		dbs = append(dbs, o.Database)
	}
	in := mariadb.SQLList(dbs)
	rows, err := srv.Query(ctx, "SELECT TRIGGER_SCHEMA, 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN ("+in+")"+
		" UNION ALL SELECT ROUTINE_SCHEMA, LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN ("+in+")"+
		" UNION ALL SELECT EVENT_SCHEMA, 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN ("+in+")")
	if err != nil {
		c.Detail = err.Error()
		d.add(c)
		return
	}
	c.Passed, c.Detail = objectsVerdict(db.Objects, rows)
	d.add(c)
}

// objectsVerdict compares the manifest's objects with the rows
// (schema, kind, name) a MariaDB or MySQL server lists.
func objectsVerdict(want []archive.Object, rows [][]string) (bool, string) {
	return objectsVerdictOf(want, rows, "triggers, routines and events")
}

// objectsVerdictOf compares the manifest's objects with the rows
// (database, kind, name) the server lists; what names the kinds in the
// detail.
func objectsVerdictOf(want []archive.Object, rows [][]string, what string) (bool, string) {
	have := map[archive.Object]bool{}
	for _, r := range rows {
		if len(r) == 3 {
			have[archive.Object{Database: r[0], Kind: r[1], Name: r[2]}] = true
		}
	}
	var missing []string
	for _, o := range want {
		if !have[o] {
			missing = append(missing, o.Kind+" "+o.Database+"."+o.Name)
		}
	}
	if len(missing) > 0 {
		return false, "missing: " + strings.Join(missing, ", ")
	}
	return true, fmt.Sprintf("all %d %s present", len(want), what)
}

// checkEnv parses the archived .env and, when the stack's own .env is on
// this host, compares the encryption keys by digest. No value is ever
// put in a detail.
func (d *driller) checkEnv(st *streamed) {
	archived, key := d.envChecks(st.env, d.liveEnvPath())
	d.add(archived)
	d.add(key)
}

func (d *driller) liveEnvPath() string {
	if d.cfg.Stack.Dir == "" {
		return ""
	}
	return filepath.Join(d.cfg.Stack.Dir, ".env")
}

func (d *driller) envChecks(data []byte, livePath string) (Check, Check) {
	c := Check{Name: CheckEnv}
	k := Check{Name: CheckEnvKey}
	if data == nil {
		c.Passed, c.Skipped, c.Detail = true, true, "the backup holds no .env"
		k.Passed, k.Skipped, k.Detail = true, true, "the backup holds no .env"
		return c, k
	}
	env, err := ParseEnv(data)
	if err != nil {
		c.Detail = "the archived " + err.Error()
		k.Skipped, k.Passed, k.Detail = true, true, "not run: the archived .env does not parse"
		return c, k
	}
	c.Figures = map[string]int64{"keys": int64(len(env))}
	appwrite := false
	for key := range env {
		if strings.HasPrefix(key, "_APP_") {
			appwrite = true
			break
		}
	}
	if !appwrite {
		c.Passed, c.Detail = true, fmt.Sprintf("parses (%d keys); not an Appwrite .env, so no key is required", len(env))
	} else {
		var missing []string
		for _, key := range RequiredAppwriteKeys {
			if strings.TrimSpace(env[key]) == "" {
				missing = append(missing, key)
			}
		}
		if len(missing) > 0 {
			c.Detail = "the archived .env lacks " + strings.Join(missing, ", ")
		} else {
			c.Passed, c.Detail = true, fmt.Sprintf("parses (%d keys) and holds %s", len(env), strings.Join(RequiredAppwriteKeys, ", "))
		}
	}
	backupKey, ok := env[OpenSSLKey]
	if !ok {
		k.Passed, k.Skipped, k.Detail = true, true, "the archived .env has no "+OpenSSLKey
		return c, k
	}
	liveData, err := os.ReadFile(livePath)
	if livePath == "" || errors.Is(err, os.ErrNotExist) {
		k.Passed, k.Skipped, k.Detail = true, true, "no live .env at "+livePath+" to compare with"
		return c, k
	}
	if err != nil {
		k.Detail = "reading the live .env: " + err.Error()
		return c, k
	}
	live, err := ParseEnv(liveData)
	if err != nil {
		k.Detail = "the live " + err.Error()
		return c, k
	}
	liveKey, ok := live[OpenSSLKey]
	if !ok {
		k.Detail = "the live .env at " + livePath + " has no " + OpenSSLKey
		return c, k
	}
	a, b := sha256.Sum256([]byte(backupKey)), sha256.Sum256([]byte(liveKey))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		k.Detail = OpenSSLKey + " differs from the live stack's (" + livePath + "): restored, the database's encrypted attributes could not be read with the live key"
		return c, k
	}
	k.Passed, k.Detail = true, OpenSSLKey+" equals the live stack's (compared by sha256)"
	return c, k
}

func (d *driller) checkQueries(ctx context.Context, srv dbServer) {
	for _, q := range d.cfg.Drill.Queries {
		c := Check{Name: QueryPrefix + q.Name}
		rows, err := srv.query(ctx, q.SQL)
		got := ""
		if len(rows) > 0 && len(rows[0]) > 0 {
			got = rows[0][0]
		}
		switch {
		case err != nil:
			c.Detail = err.Error()
		case got != q.Expect:
			c.Detail = fmt.Sprintf("got %q, want %q", abbreviate(got), abbreviate(q.Expect))
		default:
			c.Passed, c.Detail = true, fmt.Sprintf("returned %q", abbreviate(got))
		}
		d.add(c)
	}
}

func abbreviate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
