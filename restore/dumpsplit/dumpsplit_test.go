package dumpsplit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive/dumplex"
)

// recorder keeps what a Splitter passes on.
type recorder struct {
	secs []rec
}

type rec struct {
	Section
	Data string
}

func (r *recorder) Begin(s Section) error {
	r.secs = append(r.secs, rec{Section: s})
	return nil
}

func (r *recorder) Write(p []byte) error {
	if len(r.secs) == 0 {
		return errors.New("bytes before a section")
	}
	r.secs[len(r.secs)-1].Data += string(p)
	return nil
}

// split runs data through a splitter in pieces of size n (0: whole).
func split(data string, n int) ([]rec, error) {
	r := &recorder{}
	s := New(r)
	if n <= 0 {
		n = len(data) + 1
	}
	for p := data; len(p) > 0; {
		k := min(n, len(p))
		if _, err := s.Write([]byte(p[:k])); err != nil {
			return r.secs, err
		}
		p = p[k:]
	}
	return r.secs, s.Close()
}

func shape(secs []rec) []string {
	var out []string
	for _, s := range secs {
		switch s.Kind {
		case Table:
			out = append(out, "table "+s.Database+"."+s.Table)
		default:
			out = append(out, s.Kind.String())
		}
	}
	return out
}

func joined(secs []rec) string {
	var b strings.Builder
	for _, s := range secs {
		b.WriteString(s.Data)
	}
	return b.String()
}

// sampleDump is mariadb-dump 10.11's shape: the sandbox line, the header,
// the preamble, two databases, tables with rows and a trigger, a view,
// a routine, the final views and the trailer.
const sampleDump = "/*M!999999\\- enable the sandbox mode */ \n" +
	"-- MariaDB dump 10.19-10.11.14-MariaDB, for debian-linux-gnu (x86_64)\n--\n-- Host: localhost    Database: \n" +
	"-- ------------------------------------------------------\n-- Server version\t10.11.14-MariaDB-0+deb12u2\n\n" +
	"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n" +
	"/*!40101 SET NAMES utf8mb4 */;\n" +
	"/*!40103 SET TIME_ZONE='+00:00' */;\n" +
	"/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n" +
	"/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n\n" +
	"--\n-- Current Database: `appwrite`\n--\n\n" +
	"/*!40000 DROP DATABASE IF EXISTS `appwrite`*/;\n\n" +
	"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `appwrite` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n\n" +
	"USE `appwrite`;\n\n" +
	"--\n-- Table structure for table `_1_users`\n--\n\n" +
	"DROP TABLE IF EXISTS `_1_users`;\n" +
	"/*!40101 SET @saved_cs_client     = @@character_set_client */;\n" +
	"/*!40101 SET character_set_client = utf8mb4 */;\n" +
	"CREATE TABLE `_1_users` (\n  `_id` int(11) NOT NULL AUTO_INCREMENT,\n  `name` text DEFAULT '\n--\n-- Table structure for table `x`\n--\n',\n  PRIMARY KEY (`_id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n" +
	"/*!40101 SET character_set_client = @saved_cs_client */;\n\n" +
	"--\n-- Dumping data for table `_1_users`\n--\n\n" +
	"LOCK TABLES `_1_users` WRITE;\n/*!40000 ALTER TABLE `_1_users` DISABLE KEYS */;\n" +
	"INSERT INTO `_1_users` VALUES (1,'Ann \\'x\\' ;'),(2,'\n--\n-- Current Database: `evil`\n--\n'),(3,_binary 0x00275C29);\n" +
	"/*!40000 ALTER TABLE `_1_users` ENABLE KEYS */;\nUNLOCK TABLES;\n" +
	"/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n" +
	"DELIMITER ;;\n" +
	"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `_1_users_touch` BEFORE UPDATE ON `_1_users` FOR EACH ROW BEGIN\n" +
	"--\n-- Table structure for table `inside_trigger`\n--\n" +
	"  SET NEW.name = 'x';\nEND */;;\n" +
	"DELIMITER ;\n" +
	"/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n\n" +
	"--\n-- Table structure for table `_1_files`\n--\n\n" +
	"DROP TABLE IF EXISTS `_1_files`;\n" +
	"CREATE TABLE `_1_files` (`_id` int) ENGINE=InnoDB;\n\n" +
	"--\n-- Dumping data for table `_1_files`\n--\n\n" +
	"LOCK TABLES `_1_files` WRITE;\nUNLOCK TABLES;\n\n" +
	"--\n-- Temporary table structure for view `v`\n--\n\n" +
	"DROP TABLE IF EXISTS `v`;\n/*!50001 DROP VIEW IF EXISTS `v`*/;\n" +
	"/*!50001 CREATE VIEW `v` AS SELECT\n 1 AS `_id` */;\n\n" +
	"--\n-- Dumping routines for database 'appwrite'\n--\n" +
	"DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\n  SELECT 1;\nEND ;;\nDELIMITER ;\n\n" +
	"--\n-- Current Database: `appwrite_logs`\n--\n\n" +
	"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `appwrite_logs`;\n\nUSE `appwrite_logs`;\n\n" +
	"--\n-- Table structure for table `logs`\n--\n\n" +
	"DROP TABLE IF EXISTS `logs`;\nCREATE TABLE `logs` (`id` int) ENGINE=InnoDB;\n" +
	"LOCK TABLES `logs` WRITE;\nINSERT INTO `logs` VALUES (1),(2);\nUNLOCK TABLES;\n\n" +
	"--\n-- Current Database: `appwrite`\n--\n\nUSE `appwrite`;\n\n" +
	"--\n-- Final view structure for view `v`\n--\n\n" +
	"/*!50001 DROP VIEW IF EXISTS `v`*/;\n/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50001 VIEW `v` AS select `_id` AS `_id` from `_1_users` */;\n\n" +
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n" +
	"-- Dump completed on 2026-11-26 12:00:00\n"

func TestSampleDump(t *testing.T) {
	secs, err := split(sampleDump, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"preamble", "serial", "table appwrite._1_users", "table appwrite._1_files", "serial", "table appwrite_logs.logs", "serial"}
	if got := shape(secs); !reflect.DeepEqual(got, want) {
		t.Fatalf("sections = %q, want %q", got, want)
	}
	if joined(secs) != sampleDump {
		t.Fatal("the sections' bytes are not the dump")
	}
	pre := secs[0].Data
	if !strings.HasPrefix(pre, "/*M!999999") || !strings.Contains(pre, "NOTE_VERBOSITY=0 */;") || strings.Contains(pre, "Current Database") {
		t.Errorf("preamble = %q", pre)
	}
	users := secs[2].Data
	if !strings.HasPrefix(users, "--\n-- Table structure for table `_1_users`") || !strings.Contains(users, "END */;;\nDELIMITER ;\n") || !strings.Contains(users, "Dumping data") {
		t.Errorf("_1_users' section = %q", users)
	}
	if !strings.HasPrefix(secs[4].Data, "--\n-- Temporary table structure for view `v`") || !strings.Contains(secs[4].Data, "Dumping routines") {
		t.Errorf("serial section = %q", secs[4].Data)
	}
	if last := secs[6].Data; !strings.HasPrefix(last, "--\n-- Current Database: `appwrite`") || !strings.HasSuffix(last, "-- Dump completed on 2026-11-26 12:00:00\n") {
		t.Errorf("last section = %q", last)
	}
}

// TestAnyCut: where the stream is cut into writes never changes the
// sections.
func TestAnyCut(t *testing.T) {
	want, err := split(sampleDump, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 5, 7, 13, 64, 1000} {
		got, err := split(sampleDump, n)
		if err != nil {
			t.Fatalf("pieces of %d: %v", n, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pieces of %d: sections %q, want %q", n, shape(got), shape(want))
		}
	}
}

func TestCuts(t *testing.T) {
	const pre = "/*!40101 SET NAMES utf8mb4 */;\n"
	const db = "--\n-- Current Database: `d`\n--\n\nUSE `d`;\n"
	tbl := func(name, body string) string {
		return "\n--\n-- Table structure for table `" + name + "`\n--\n\nDROP TABLE IF EXISTS `" + name + "`;\nCREATE TABLE `" + name + "` (a int);\n" + body
	}
	tests := []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{"plain", pre + db + tbl("a", "") + tbl("b", ""), []string{"preamble", "serial", "table d.a", "table d.b"}, ""},
		{"no preamble", db + tbl("a", ""), []string{"serial", "table d.a"}, ""},
		{"a global SET ends the preamble", pre + "SET @@GLOBAL.GTID_PURGED='x';\n" + db + tbl("a", ""), []string{"preamble", "serial", "table d.a"}, ""},
		{"a user ends the preamble", pre + "CREATE USER `u`@`%`;\n" + pre + db, []string{"preamble", "serial"}, ""},
		{"a table before any USE stays serial", pre + tbl("a", "") + db + tbl("b", ""), []string{"preamble", "serial", "table d.b"}, ""},
		{"a title inside a string", pre + db + tbl("a", "INSERT INTO `a` VALUES ('\n--\n-- Table structure for table `b`\n--\n');\n"), []string{"preamble", "serial", "table d.a"}, ""},
		{"a title inside a backquoted name", pre + db + tbl("a", "INSERT INTO `a` (`\n--\n-- Current Database: `, x) VALUES (1);\n"), []string{"preamble", "serial", "table d.a"}, ""},
		{"a title inside a block comment", pre + db + "/*\n--\n-- Table structure for table `b`\n--\n*/\n", []string{"preamble", "serial"}, ""},
		{"a title inside a DELIMITER block", pre + db + tbl("a", "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER `t` BEFORE INSERT ON `a` FOR EACH ROW BEGIN\n--\n-- Table structure for table `b`\n--\nSET NEW.a = 1; END */;;\nDELIMITER ;\n") + tbl("c", ""), []string{"preamble", "serial", "table d.a", "table d.c"}, ""},
		{"a title inside a statement", pre + db + tbl("a", "INSERT INTO `a` VALUES (1),\n--\n-- Table structure for table `b`\n--\n(2);\n"), []string{"preamble", "serial", "table d.a"}, ""},
		{"a title line without its frame", pre + db + tbl("a", "-- Table structure for table `b`\n--\n"), []string{"preamble", "serial", "table d.a"}, ""},
		{"rows of another table", pre + db + tbl("a", "\n--\n-- Dumping data for table `b`\n--\n"), []string{"preamble", "serial", "table d.a", "serial"}, ""},
		{"an unknown title", pre + db + tbl("a", "\n--\n-- Sequence structure for `s`\n--\n"), []string{"preamble", "serial", "table d.a", "serial"}, ""},
		{"a delimiter the splitter cannot follow", pre + db + "DELIMITER '//'\n" + tbl("a", ""), []string{"preamble", "serial"}, ""},
		{"a delimiter in the preamble", pre + "DELIMITER ;;\nSET @a=1;;\nDELIMITER ;\n" + db + tbl("a", ""), []string{"preamble", "serial", "table d.a"}, ""},
		// mariadb-dump --dump-history sets system_versioning_insert_history
		// around a versioned table's rows, inside the table's section: it
		// goes with the rows to their connection.
		{"a versioned table's history", pre + db + tbl("h", "\n--\n-- Dumping data for table `h`\n--\n\n"+
			"/*M!101100 SET @old_system_versioning_insert_history=@@session.system_versioning_insert_history, @@session.system_versioning_insert_history=1 */;\n"+
			"LOCK TABLES `h` WRITE;\nINSERT INTO `h` (`a`, row_start, row_end) VALUES (1,'2026-12-07 00:25:21.470923','2026-12-07 00:25:21.490702'),(2,'2026-12-07 00:25:21.490702','2038-01-19 03:14:07.999999');\nUNLOCK TABLES;\n"+
			"/*M!101100 SET system_versioning_insert_history=@old_system_versioning_insert_history */;\n") + tbl("c", ""),
			[]string{"preamble", "serial", "table d.h", "table d.c"}, ""},
		{"a table with a foreign key runs serially", pre + db + tbl("a", "") + "\n--\n-- Table structure for table `b`\n--\n\nDROP TABLE IF EXISTS `b`;\nCREATE TABLE `b` (\n  `a` int,\n  CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `a` (`a`)\n);\nLOCK TABLES `b` WRITE;\nUNLOCK TABLES;\n" + tbl("c", ""),
			[]string{"preamble", "serial", "table d.a", "serial", "table d.c"}, ""},
		{"a section without CREATE TABLE", pre + db + "\n--\n-- Table structure for table `a`\n--\n\nDROP TABLE IF EXISTS `a`;\n" + tbl("b", ""), []string{"preamble", "serial", "table d.a", "table d.b"}, ""},
		{"a hash comment", pre + db + "# --\n" + tbl("a", "# x\n"), []string{"preamble", "serial", "table d.a"}, ""},
		{"another table's rows in a section", pre + db + tbl("a", "INSERT INTO `b` VALUES (1);\n"), nil, "INSERT INTO `b`"},
		{"a database statement in a section", pre + db + tbl("a", "DROP DATABASE `d`;\n"), nil, "DROP DATABASE"},
		{"a USE in a section", pre + db + tbl("a", "USE `e`;\n"), nil, "USE"},
		{"a global SET in a section", pre + db + tbl("a", "SET GLOBAL x=1;\n"), nil, "SET GLOBAL"},
		{"a trigger on another table", pre + db + tbl("a", "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER `t` BEFORE INSERT ON `b` FOR EACH ROW SET @x=1 */;;\nDELIMITER ;\n"), nil, "TRIGGER"},
		{"another database's table in a section", pre + db + tbl("a", "INSERT INTO `e`.`a` VALUES (1);\n"), nil, "INSERT"},
		{"a qualified name of the section's table", pre + db + tbl("a", "DELIMITER ;;\nCREATE DEFINER = `u`@`%` TRIGGER t BEFORE INSERT ON `d`.a FOR EACH ROW SET @x=1;;\nDELIMITER ;\nINSERT INTO d.`a` VALUES (1);\n"), []string{"preamble", "serial", "table d.a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 7} {
				secs, err := split(tt.in, n)
				if tt.err != "" {
					var ue *UnexpectedError
					if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.err) {
						t.Fatalf("pieces of %d: error %v, want an UnexpectedError naming %q", n, err, tt.err)
					}
					for _, s := range secs {
						if s.Kind == Table && strings.Contains(s.Data, tt.err) {
							t.Fatalf("pieces of %d: the unexpected statement was passed on: %q", n, s.Data)
						}
					}
					continue
				}
				if err != nil {
					t.Fatalf("pieces of %d: %v", n, err)
				}
				if got := shape(secs); !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("pieces of %d: sections %q, want %q", n, got, tt.want)
				}
				if joined(secs) != tt.in {
					t.Fatalf("pieces of %d: the sections' bytes are not the input", n)
				}
			}
		})
	}
}

func TestSinkErrorStops(t *testing.T) {
	boom := errors.New("boom")
	s := New(failing{boom})
	_, err := s.Write([]byte(sampleDump))
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the sink's error", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, boom) {
		t.Fatalf("second Write = %v, want the sink's error again", err)
	}
}

type failing struct{ err error }

func (f failing) Begin(Section) error  { return f.err }
func (f failing) Write(p []byte) error { return f.err }

func TestHeadWords(t *testing.T) {
	got := headWords("/*!50003 CREATE*/ /*!50017 DEFINER=`ro``ot`@`localhost`*/ /*!50003 TRIGGER `a b` BEFORE INSERT ON `x` FOR", 20)
	want := []string{"CREATE", "DEFINER=`ro``ot`@`localhost`", "TRIGGER", "`a b`", "BEFORE", "INSERT", "ON", "`x`", "FOR"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("words = %q, want %q", got, want)
	}
	if n, ok := identifier("`a``b`"); !ok || n != "a`b" {
		t.Errorf("identifier(`a``b`) = %q, %v", n, ok)
	}
	for _, w := range []string{"`a`.`b`", "a.b", "`a", ""} {
		if _, ok := identifier(w); ok {
			t.Errorf("identifier(%q) accepted", w)
		}
	}
}

// between is a plain model of the mariadb client's reading, byte by byte
// and without the splitter's shortcuts: at each offset, whether the
// client is between statements, in code, with the delimiter ";" (where a
// connection may change hands).
func between(data string) []bool {
	out := make([]bool, len(data)+1)
	const (
		code = iota
		str
		line
		block
	)
	st, q, delim, pending, bol := code, byte(0), ";", false, true
	confused := false
	for i := 0; i <= len(data); i++ {
		out[i] = st == code && !pending && delim == ";" && !confused
		if i == len(data) {
			break
		}
		c := data[i]
		switch st {
		case str:
			if c == '\\' && q != '`' {
				i++
			} else if c == q {
				st = code
			}
			continue
		case line:
			if c == '\n' {
				st, bol = code, true
			}
			continue
		case block:
			if c == '*' && i+1 < len(data) && data[i+1] == '/' {
				st = code
				i++
			}
			continue
		}
		if bol && !pending {
			rest := data[i:]
			end := strings.IndexByte(rest[:min(len(rest), commandCap)], '\n')
			consumed := end + 1
			if end < 0 {
				end = min(len(rest), commandCap)
				consumed = end
			}
			l := rest[:end]
			tl := strings.TrimLeft(l, " \t")
			if strings.HasPrefix(l, dumplex.SandboxLine) || len(tl) >= 10 && strings.EqualFold(tl[:9], "delimiter") && isSpace(tl[9]) {
				if !strings.HasPrefix(l, dumplex.SandboxLine) {
					f := strings.Fields(tl[10:])
					if len(f) == 0 || !plainDelimiter(f[0]) || consumed == commandCap && rest[commandCap-1] != '\n' {
						confused = true
					} else {
						delim = f[0]
					}
				}
				i += consumed - 1
				bol = consumed > end
				continue
			}
		}
		bol = false
		switch {
		case strings.HasPrefix(data[i:], delim):
			i += len(delim) - 1
			pending = false
		case c == '\n':
			bol = true
		case isSpace(c):
		case c == '#':
			st = line
		case c == '-' && i+1 < len(data) && data[i+1] == '-' && (i+2 == len(data) || isSpace(data[i+2])):
			st = line
			i++
		case c == '/' && i+1 < len(data) && data[i+1] == '*' && !strings.HasPrefix(data[i:], "/*!") && !strings.HasPrefix(data[i:], "/*M!"):
			st = block
			i++
		case c == '\'' || c == '"' || c == '`':
			st, q, pending = str, c, true
		default:
			pending = true
		}
	}
	return out
}

// plainDelimiter is a delimiter the model follows: one the client takes as
// it is written.
func plainDelimiter(d string) bool {
	_, _, plain := dumplex.Delimiter([]byte("DELIMITER " + d))
	return plain
}

// FuzzSplit: for any input, the sections' bytes are the input; every cut
// is where the client is between statements with the delimiter ";" (so
// nothing given to one connection runs into what another runs); and the
// result does not depend on how the stream was cut into writes.
func FuzzSplit(f *testing.F) {
	f.Add(sampleDump, uint16(0))
	f.Add(sampleDump, uint16(3))
	f.Add("USE `d`;\n--\n-- Table structure for table `a`\n--\nINSERT INTO `a` VALUES ('x');\n--\n-- Table structure for table `b`\n--\n", uint16(5))
	f.Add("DELIMITER ;;\nUSE d;;\nDELIMITER ;\nUSE d;\n--\n-- Table structure for table `a`\n--\n", uint16(1))
	f.Add("SET a=1;USE `d`;\n--\n-- Table structure for table `a`\n--\nLOCK TABLES `a` WRITE;\n--\n-- Final view structure for view `v`\n--\n", uint16(2))
	f.Add("USE `d`;\n--\n-- Table structure for table `a\n-- \n-- b`\n--\nDROP TABLE IF EXISTS `a\n\nb`;\nCREATE TABLE `a\n\nb` (x int);\n--\n-- Dumping data for table `a\n-- \n-- b`\n--\nINSERT INTO `a\n\nb` VALUES (1);\n", uint16(4))
	f.Add("USE `d\nb`;\n--\n-- Table structure for table `a\n-- -- Table structure for table `` x`\n--\nCREATE TABLE `a\n-- Table structure for table `` x` (x int);\n", uint16(9))
	if dump, err := os.ReadFile("testdata/identifiers.sql"); err == nil {
		f.Add(string(dump), uint16(11))
	}
	f.Fuzz(func(t *testing.T, data string, n uint16) {
		whole, werr := split(data, 0)
		if werr == nil && joined(whole) != data {
			t.Fatalf("the sections' bytes are not the input")
		}
		ok := between(data)
		at := 0
		for i, s := range whole {
			if i > 0 && !ok[at] {
				t.Fatalf("cut at %d (before %q), where the client is not between statements", at, data[at:min(len(data), at+20)])
			}
			if s.Kind == Table && (s.Database == "" || s.Table == "") {
				t.Fatalf("table section without a name: %+v", s.Section)
			}
			at += len(s.Data)
		}
		pieces, perr := split(data, int(n%64)+1)
		if (werr == nil) != (perr == nil) || werr != nil && werr.Error() != perr.Error() {
			t.Fatalf("whole: %v; in pieces of %d: %v", werr, n%64+1, perr)
		}
		if werr == nil && !reflect.DeepEqual(pieces, whole) {
			t.Fatalf("in pieces of %d the sections differ: %q, whole: %q", n%64+1, shape(pieces), shape(whole))
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	row := "(12345,'doc12345','2026-11-25 08:00:00.000','[\"read(\\\"any\\\")\"]','Title with ''quotes'' and \\\\ slashes',_binary 0x0001020304FF,'{\"n\":1}'),"
	var dump bytes.Buffer
	dump.WriteString("/*!40101 SET NAMES utf8mb4 */;\nUSE `appwrite`;\n")
	for i := range 8 {
		fmt.Fprintf(&dump, "\n--\n-- Table structure for table `t%d`\n--\n\nDROP TABLE IF EXISTS `t%d`;\nCREATE TABLE `t%d` (a int);\nLOCK TABLES `t%d` WRITE;\n", i, i, i, i)
		fmt.Fprintf(&dump, "INSERT INTO `t%d` VALUES %s(1,'x','y','z','w',0x00,'{}');\nUNLOCK TABLES;\n", i, strings.Repeat(row, 4000))
	}
	data := dump.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s := New(discard{})
		for p := data; len(p) > 0; p = p[min(len(p), 1<<20):] {
			s.Write(p[:min(len(p), 1<<20)])
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Begin(Section) error  { return nil }
func (discard) Write(p []byte) error { return nil }

// TestIdentifiers: every name MariaDB accepts gets its table's section,
// in mariadb-dump's own output (testdata/identifiers.sql, made by
// testdata/identifiers.setup.sql on MariaDB 10.11): a newline in a name
// goes on over the next comment line of the section's title ("\n-- "),
// and nothing else in a name may move a cut.
func TestIdentifiers(t *testing.T) {
	dump, err := os.ReadFile("testdata/identifiers.sql")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := split(string(dump), 0)
	if err != nil {
		t.Fatal(err)
	}
	if joined(whole) != string(dump) {
		t.Fatal("the sections' bytes are not the dump")
	}
	for _, n := range []int{1, 7, 64} {
		pieces, err := split(string(dump), n)
		if err != nil {
			t.Fatalf("pieces of %d: %v", n, err)
		}
		if !reflect.DeepEqual(pieces, whole) {
			t.Fatalf("pieces of %d: sections %q, want %q", n, shape(pieces), shape(whole))
		}
	}
	tables := map[[2]string]rec{}
	for _, s := range whole {
		if s.Kind == Table {
			tables[[2]string{s.Database, s.Table}] = s
		}
	}
	for _, tt := range []struct {
		name, db, table string
		rows            string // a row the section holds
	}{
		{"a newline", "app", "a\nb", "(1,'x')"},
		{"two newlines", "app", "a\n\nb", "(7)"},
		{"a space before a newline", "app", "sp \nx", ""},
		{"a section title inside a name", "app", "a\n-- Table structure for table ` x", ""},
		{"a backtick", "app", "back`tick", "(1)"},
		{"quotes", "app", `quo'te"s`, ""},
		{"a backslash", "app", `back\slash`, ""},
		{"unicode", "app", "é ünï ☃", ""},
		{"a space", "app", "with space", ""},
		{"a tab", "app", "tab\tx", ""},
		{"a carriage return", "app", "c\rr", ""},
		{"a line comment", "app", "-- dash", ""},
		{"a block comment", "app", "/* star", ""},
		{"a semicolon", "app", "semi;colon", ""},
		{"a dot", "app", "dot.ted", ""},
		{"a backtick before a dot", "app", "tick`.dot", "(3)"},
		{"64 characters", "app", strings.Repeat("x", 62) + "63", ""},
		{"in a database with a newline", "d\nb", "t\n1", "(5)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := tables[[2]string{tt.db, tt.table}]
			if !ok {
				t.Fatalf("no section for table %q of %q; sections: %q", tt.table, tt.db, shape(whole))
			}
			quoted := "`" + strings.ReplaceAll(tt.table, "`", "``") + "`"
			if !strings.HasPrefix(s.Data, "--\n-- Table structure for table ") || !strings.Contains(s.Data, "CREATE TABLE "+quoted+" (") {
				t.Errorf("section %q does not start at its title or lacks its CREATE TABLE", abbreviate(s.Data))
			}
			if tt.rows != "" && !strings.Contains(s.Data, "INSERT INTO "+quoted+" VALUES\n"+tt.rows) {
				t.Errorf("section %q lacks the rows %s", abbreviate(s.Data), tt.rows)
			}
			if strings.Count(s.Data, "CREATE TABLE ") != 1 {
				t.Errorf("section %q holds another table", abbreviate(s.Data))
			}
		})
	}
	if len(tables) != 18 {
		t.Errorf("%d table sections, want 18: %q", len(tables), shape(whole))
	}
}

func abbreviate(s string) string { return s[:min(len(s), 200)] }

// TestUnexpectedErrorQuotesExcerpts: the error stays one short line
// whatever the names and the statement hold.
func TestUnexpectedErrorQuotesExcerpts(t *testing.T) {
	pre := "USE `d`;\n--\n-- Table structure for table `a\n-- b`\n--\nDROP TABLE IF EXISTS `a\nb`;\nCREATE TABLE `a\nb` (x int);\n"
	long := strings.Repeat("n", 60)
	_, err := split(pre+"INSERT INTO `"+long+"\n"+long+"` VALUES (1);\n", 0)
	var ue *UnexpectedError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnexpectedError", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "table `a\\nb`") || !strings.Contains(msg, "(INSERT INTO `"+long+"\\n") || len(msg) > 400 {
		t.Errorf("error %q: want one line naming table `a\\nb` and an excerpt of the statement", msg)
	}
}
