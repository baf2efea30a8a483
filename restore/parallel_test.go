package restore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/restore/dumpsplit"
)

// fakeSessions plays the import clients of a parallel import: it reads
// each connection's input line by line, logs every line with the
// connection it came on, echoes the markers, and fails or blocks where a
// line says so.
type fakeSessions struct {
	failOn string        // a line holding it fails its connection
	gate   chan struct{} // a line holding GATE waits for it
	// blocked is closed when a connection reaches a line holding BLOCK,
	// which then waits for the import to end.
	blocked chan struct{}

	mu       sync.Mutex
	n        int
	log      []logLine
	streams  map[int]*strings.Builder
	ends     map[int]error // how each connection's input ended (nil: EOF)
	raised   int
	putBack  int
	gateOpen bool
	early    []string // serial lines seen while the gate was closed
}

type logLine struct {
	conn int
	line string
}

var markRE = regexp.MustCompile(`SELECT '(dr-import-[0-9a-f]+-[0-9]+)';`)

func (f *fakeSessions) RaisePacketLimit(context.Context) func() {
	f.mu.Lock()
	f.raised++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.putBack++
		f.mu.Unlock()
	}
}

func (f *fakeSessions) ImportSession(ctx context.Context, r io.Reader, out io.Writer) error {
	f.mu.Lock()
	f.n++
	id := f.n
	if f.streams == nil {
		f.streams, f.ends = map[int]*strings.Builder{}, map[int]error{}
	}
	f.streams[id] = &strings.Builder{}
	f.mu.Unlock()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			f.mu.Lock()
			f.log = append(f.log, logLine{id, line})
			f.streams[id].WriteString(line)
			if f.gate != nil && !f.gateOpen && strings.Contains(line, "SERIAL") {
				f.early = append(f.early, line)
			}
			f.mu.Unlock()
			for _, m := range markRE.FindAllStringSubmatch(line, -1) {
				fmt.Fprintln(out, m[1])
			}
			switch {
			case f.failOn != "" && strings.Contains(line, f.failOn):
				return errors.New("importing the dump: exit code 1: ERROR 1062 (23000) at line 7: Duplicate entry '1' for key 'PRIMARY'")
			case strings.Contains(line, "BLOCK"):
				close(f.blocked)
				<-ctx.Done()
				return fmt.Errorf("importing the dump: %w", ctx.Err())
			case strings.Contains(line, "GATE"):
				<-f.gate
			}
		}
		if err != nil {
			f.mu.Lock()
			if errors.Is(err, io.EOF) {
				f.ends[id] = nil
			} else {
				f.ends[id] = err
			}
			f.mu.Unlock()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("importing the dump: %w", err)
		}
	}
}

// manyTables is a dump of two databases with tables tables each, a view
// between them and the final view at the end; body adds lines to the
// section of table d1.t<k>.
func manyTables(tables int, body map[int]string) string {
	var b strings.Builder
	b.WriteString("/*!40101 SET NAMES utf8mb4 */;\n/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\n\n")
	for d := 1; d <= 2; d++ {
		fmt.Fprintf(&b, "--\n-- Current Database: `d%d`\n--\n\nCREATE DATABASE `d%d`; -- SERIAL\n\nUSE `d%d`;\n", d, d, d)
		for k := 1; k <= tables; k++ {
			fmt.Fprintf(&b, "\n--\n-- Table structure for table `t%d`\n--\n\nDROP TABLE IF EXISTS `t%d`;\nCREATE TABLE `t%d` (d%d int);\n", k, k, k, d)
			fmt.Fprintf(&b, "\n--\n-- Dumping data for table `t%d`\n--\n\nLOCK TABLES `t%d` WRITE;\n", k, k)
			if d == 1 {
				b.WriteString(body[k])
			}
			fmt.Fprintf(&b, "INSERT INTO `t%d` VALUES (%d),(%d);\nUNLOCK TABLES;\n", k, k, d)
		}
		if d == 1 {
			b.WriteString("\n--\n-- Temporary table structure for view `v`\n--\n\nCREATE VIEW `v` AS SELECT 1 AS `a`; -- SERIAL\n")
		}
	}
	b.WriteString("\n--\n-- Current Database: `d1`\n--\n\nUSE `d1`;\n\n--\n-- Final view structure for view `v`\n--\n\nCREATE OR REPLACE VIEW `v` AS SELECT a FROM t1; -- SERIAL\n")
	b.WriteString("/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n\n-- Dump completed on 2026-11-26 12:00:00\n")
	return b.String()
}

// sectionsOf is the splitter's cut of dump.
func sectionsOf(t *testing.T, dump string) []recSection {
	t.Helper()
	r := &recSections{}
	s := dumpsplit.New(r)
	if _, err := s.Write([]byte(dump)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return r.secs
}

type recSection struct {
	dumpsplit.Section
	data string
}

type recSections struct{ secs []recSection }

func (r *recSections) Begin(s dumpsplit.Section) error {
	r.secs = append(r.secs, recSection{Section: s})
	return nil
}

func (r *recSections) Write(p []byte) error {
	r.secs[len(r.secs)-1].data += string(p)
	return nil
}

func TestParallelImportRunsEveryTableOnceAndTheRestInOrder(t *testing.T) {
	dump := manyTables(12, nil)
	f := &fakeSessions{}
	if err := importParallel(context.Background(), f, 3, strings.NewReader(dump)); err != nil {
		t.Fatal(err)
	}
	if f.n != 3 {
		t.Errorf("%d connections, want 3", f.n)
	}
	if f.raised != 1 || f.putBack != 1 {
		t.Errorf("packet limit raised %d times and put back %d times, want once each", f.raised, f.putBack)
	}
	for id, end := range f.ends {
		if end != nil {
			t.Errorf("connection %d's input ended with %v, want a clean end", id, end)
		}
	}
	secs := sectionsOf(t, dump)
	var serial strings.Builder
	tables := 0
	for _, s := range secs {
		if s.Kind != dumpsplit.Table {
			serial.WriteString(s.data)
			continue
		}
		tables++
		found := 0
		for id, st := range f.streams {
			if n := strings.Count(st.String(), s.data); n > 0 {
				found += n
				// The connection was in the table's database when its
				// section began.
				before := st.String()[:strings.Index(st.String(), s.data)]
				if i := strings.LastIndex(before, "USE `"); i < 0 || !strings.HasPrefix(before[i:], "USE `"+s.Database+"`;") {
					t.Errorf("connection %d ran table %s.%s without USE %s before it", id, s.Database, s.Table, s.Database)
				}
				if !strings.HasPrefix(st.String(), secs[0].data) {
					t.Errorf("connection %d did not start with the preamble", id)
				}
			}
		}
		if found != 1 {
			t.Errorf("table %s.%s ran %d times, want once", s.Database, s.Table, found)
		}
	}
	if tables != 24 {
		t.Fatalf("%d table sections, want 24", tables)
	}
	// The first connection ran every serial section, in order.
	first := markRE.ReplaceAllString(f.streams[1].String(), "")
	at := 0
	for _, s := range secs {
		if s.Kind == dumpsplit.Table {
			continue
		}
		i := strings.Index(first[at:], s.data)
		if i < 0 {
			t.Fatalf("the first connection did not run the %s section %q in order", s.Kind, s.data)
		}
		at += i + len(s.data)
	}
	// Barriers: every table line of a database ran after its CREATE
	// DATABASE, and each serial line after every table line before it.
	pos := map[string]int{}
	for i, l := range f.log {
		pos[strings.TrimSpace(markRE.ReplaceAllString(l.line, ""))] = i
	}
	for d := 1; d <= 2; d++ {
		created := pos[fmt.Sprintf("CREATE DATABASE `d%d`; -- SERIAL", d)]
		for k := 1; k <= 12; k++ {
			if p, ok := pos[fmt.Sprintf("CREATE TABLE `t%d` (d%d int);", k, d)]; !ok || p < created {
				t.Errorf("d%d.t%d created before its database", d, k)
			}
		}
	}
	view := pos["CREATE VIEW `v` AS SELECT 1 AS `a`; -- SERIAL"]
	for k := 1; k <= 12; k++ {
		if pos[fmt.Sprintf("INSERT INTO `t%d` VALUES (%d),(1);", k, k)] > view {
			t.Errorf("the view's section ran before d1.t%d's rows were in", k)
		}
	}
}

// TestParallelImportWaitsAtTheBarrier: a serial section never starts while
// a table section before it still runs.
func TestParallelImportWaitsAtTheBarrier(t *testing.T) {
	dump := manyTables(4, map[int]string{3: "SET @x = 'GATE';\n"})
	f := &fakeSessions{gate: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- importParallel(context.Background(), f, 3, strings.NewReader(dump)) }()
	// Long enough for a serial section to overtake the gated table if
	// nothing held it back; a correct import never does, however long.
	time.Sleep(200 * time.Millisecond)
	f.mu.Lock()
	f.gateOpen = true
	early := append([]string(nil), f.early...)
	f.mu.Unlock()
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, l := range early {
		if !strings.Contains(l, "CREATE DATABASE `d1`") {
			t.Errorf("ran while an earlier table section was still running: %q", l)
		}
	}
}

func TestParallelImportFailsWithTheFailingConnection(t *testing.T) {
	dump := manyTables(9, map[int]string{5: "INSERT INTO `t5` VALUES (1); -- FAIL\n"})
	f := &fakeSessions{failOn: "FAIL"}
	err := importParallel(context.Background(), f, 3, strings.NewReader(dump))
	if err == nil {
		t.Fatal("the import succeeded with a connection that failed")
	}
	if !strings.Contains(err.Error(), "Duplicate entry") || !strings.Contains(err.Error(), "table `d1`.`t5`") {
		t.Errorf("error %q: want the failing connection's own error, naming its table", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, end := range f.ends {
		if end == nil {
			t.Errorf("connection %d saw a clean end of its input after another failed", id)
		}
	}
	for _, l := range f.log {
		if strings.Contains(l.line, "Final view structure") {
			t.Error("the import went on to the end after a connection failed")
		}
	}
}

func TestParallelImportEndsEveryConnectionOnCancel(t *testing.T) {
	dump := manyTables(6, map[int]string{2: "SET @x = 'BLOCK';\n"})
	f := &fakeSessions{blocked: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- importParallel(ctx, f, 3, strings.NewReader(dump)) }()
	<-f.blocked
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import = %v, want context.Canceled", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, end := range f.ends {
		if end == nil {
			t.Errorf("connection %d saw a clean end of its input after the cancel", id)
		}
	}
}

// TestParallelImportNeverEndsAPartialDumpCleanly: when the dump stops
// (a damaged chunk, the archive cut), no connection sees a clean end.
func TestParallelImportNeverEndsAPartialDumpCleanly(t *testing.T) {
	dump := manyTables(6, nil)
	pr, pw := io.Pipe()
	f := &fakeSessions{}
	done := make(chan error, 1)
	go func() { done <- importParallel(context.Background(), f, 3, pr) }()
	pw.Write([]byte(dump[:len(dump)/2]))
	broken := errors.New("dump chunk db/dump.sql.00003 is damaged")
	pw.CloseWithError(broken)
	if err := <-done; !errors.Is(err, broken) {
		t.Fatalf("import = %v, want the dump's error", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		t.Fatal("no connection was opened")
	}
	for id, end := range f.ends {
		if end == nil {
			t.Errorf("connection %d saw a clean end of a partial dump", id)
		}
	}
	if f.putBack != f.raised {
		t.Errorf("packet limit raised %d, put back %d", f.raised, f.putBack)
	}
}

func TestParallelImportRefusesAnUnexpectedStatement(t *testing.T) {
	dump := manyTables(3, map[int]string{2: "DROP DATABASE `d2`;\n"})
	f := &fakeSessions{}
	err := importParallel(context.Background(), f, 3, strings.NewReader(dump))
	var ue *dumpsplit.UnexpectedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "restore.import_connections: 1") {
		t.Fatalf("import = %v, want an UnexpectedError saying how to import it", err)
	}
	for _, l := range f.log {
		if strings.Contains(l.line, "DROP DATABASE `d2`") {
			t.Fatal("the unexpected statement reached a connection")
		}
	}
}

func TestFeedIsBounded(t *testing.T) {
	f := newFeed(8)
	wrote := make(chan error, 1)
	go func() { wrote <- f.Write([]byte("0123456789abcdef")) }()
	var got []byte
	buf := make([]byte, 3)
	for len(got) < 16 {
		n, err := f.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if f.n > 8 {
			t.Fatalf("feed holds %d bytes, cap 8", f.n)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if string(got) != "0123456789abcdef" {
		t.Fatalf("read %q", got)
	}
	f.CloseWithError(nil)
	if _, err := f.Read(buf); err != io.EOF {
		t.Fatalf("after a clean close: %v, want EOF", err)
	}
	boom := errors.New("boom")
	g := newFeed(8)
	g.Write([]byte("abc"))
	g.CloseWithError(boom)
	if _, err := g.Read(buf); !errors.Is(err, boom) {
		t.Fatalf("after an error close: %v, want the error at once", err)
	}
	if err := g.Write([]byte("x")); !errors.Is(err, boom) {
		t.Fatalf("write after an error close: %v", err)
	}
}
