package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixedTime = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

const testDump = "-- MariaDB dump 10.19\n" +
	"USE `appwrite`;\n" +
	"CREATE TABLE `_1_users` (\n  `_id` int NOT NULL\n) ENGINE=InnoDB;\n" +
	"INSERT INTO `_1_users` VALUES (1),(2),(3);\n" +
	"-- Dump completed on 2026-11-25  8:00:00\n"

// build makes an archive of fixed inputs and returns it with its sidecar.
func build(t testing.TB, opts WriterOptions, dump string) ([]byte, *Manifest) {
	t.Helper()
	var buf bytes.Buffer
	opts.Concurrency = 1
	opts.ModTime = fixedTime
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	files := []struct{ name, body string }{
		{"compose/docker-compose.yml", "services:\n  mariadb:\n    image: mariadb:10.11\n"},
		{"compose/.env", "_APP_DB_ROOT_PASS=secret\n"},
	}
	for _, f := range files {
		if err := w.AddFile(FileHeader{Name: f.name, Mode: 0o600, ModTime: fixedTime, Size: int64(len(f.body))}, strings.NewReader(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.AddDump(context.Background(), strings.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	vol, err := w.AddVolume(context.Background(), "appwrite-uploads", VolumeRoot, bytes.NewReader(engineVolumeTar(t, sampleVolume)))
	if err != nil {
		t.Fatal(err)
	}
	name := ObjectName("appwrite", fixedTime, len(opts.Recipients) > 0)
	m := &Manifest{
		Tool: "dr test", Stack: "appwrite", Host: "host", Name: name, StartedAt: fixedTime, FinishedAt: fixedTime,
		Database: &Database{Kind: "mariadb", ChunkSize: opts.ChunkSize, Chunks: res.Chunks, DumpSize: res.Size, Tables: res.Tables},
		Volumes:  []Volume{{Name: "appwrite-uploads", Docker: "appwrite_appwrite-uploads", Files: vol.Files, Dirs: vol.Dirs, Bytes: vol.Bytes}},
	}
	if err := w.Close(m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	sidecar := *m
	sidecar.Status = StatusComplete
	sidecar.Object = &ObjectInfo{Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
	return buf.Bytes(), &sidecar
}

// listing is the golden text of an archive: each tar header, then the
// embedded manifest.
func listing(t *testing.T, data []byte) string {
	t.Helper()
	plain, done, err := Decompress(bytes.NewReader(data), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	var b strings.Builder
	tr := tar.NewReader(plain)
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		fmt.Fprintf(&b, "%c %04o %d:%d %8d %s %s\n", hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Size, hdr.ModTime.UTC().Format(time.RFC3339), hdr.Name)
		if hdr.Name == ManifestEntry {
			manifest = body
		}
	}
	b.WriteString("--- manifest.json\n")
	b.Write(manifest)
	return b.String()
}

func TestGoldenFormat(t *testing.T) {
	data, _ := build(t, WriterOptions{ChunkSize: 64}, testDump)
	got := listing(t, data)
	golden := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./archive -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("archive format changed; if on purpose, bump FormatVersion and run -update.\n got:\n%s\nwant:\n%s", got, want)
	}
	// zstd at one worker is deterministic: the bytes themselves are pinned.
	again, _ := build(t, WriterOptions{ChunkSize: 64}, testDump)
	if !bytes.Equal(data, again) {
		t.Error("two archives of the same input differ")
	}
}

func TestChunking(t *testing.T) {
	tests := []struct {
		size      int
		chunk     int64
		wantSizes []int64
	}{
		{0, 1 << 20, nil},
		{10, 4, []int64{4, 4, 2}},
		{12, 4, []int64{4, 4, 4}},
		{3, 4, []int64{3}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, WriterOptions{ChunkSize: tt.chunk, Concurrency: 1})
		res, err := w.AddDump(context.Background(), bytes.NewReader(bytes.Repeat([]byte("x"), tt.size)))
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int64
		for i, c := range res.Chunks {
			sizes = append(sizes, c.Size)
			if c.Name != ChunkName(i) {
				t.Errorf("chunk %d named %s", i, c.Name)
			}
		}
		if fmt.Sprint(sizes) != fmt.Sprint(tt.wantSizes) || res.Size != int64(tt.size) {
			t.Errorf("%d bytes in chunks of %d: sizes %v (total %d), want %v", tt.size, tt.chunk, sizes, res.Size, tt.wantSizes)
		}
	}
}

func TestDumpReadErrorIsReturned(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{ChunkSize: 8, Concurrency: 1})
	boom := fmt.Errorf("dump exited with code 2")
	_, err := w.AddDump(context.Background(), io.MultiReader(strings.NewReader("0123456789"), errReader{boom}))
	if err != boom {
		t.Errorf("got %v, want the reader's error", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func sshKey(t *testing.T) (string, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))), pem.EncodeToMemory(block)
}

func TestRoundTripPlainAndEncrypted(t *testing.T) {
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	sshPub, sshPriv := sshKey(t)
	dir := t.TempDir()
	xFile := filepath.Join(dir, "age.txt")
	sshFile := filepath.Join(dir, "id_ed25519")
	os.WriteFile(xFile, []byte("# created: test\n"+x.String()+"\n"), 0o600)
	os.WriteFile(sshFile, sshPriv, 0o600)

	tests := []struct {
		name       string
		recipients []string
		identity   string
	}{
		{"plain", nil, ""},
		{"age X25519", []string{x.Recipient().String()}, xFile},
		{"ssh-ed25519", []string{sshPub}, sshFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recips, err := ParseRecipients(tt.recipients)
			if err != nil {
				t.Fatal(err)
			}
			data, sidecar := build(t, WriterOptions{ChunkSize: 50, Recipients: recips}, testDump)
			if len(recips) > 0 {
				sidecar.Encryption = &Encryption{Scheme: "age", Recipients: tt.recipients}
			}
			var ids []age.Identity
			if tt.identity != "" {
				ids, err = LoadIdentities(tt.identity)
				if err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Verify(context.Background(), bytes.NewReader(data), sidecar, ReaderOptions{Identities: ids})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if rep.Entries != len(sidecar.Entries) || rep.Chunks != len(sidecar.Database.Chunks) || rep.DumpBytes != int64(len(testDump)) {
				t.Errorf("report %+v", rep)
			}
			if len(recips) > 0 {
				if _, err := Verify(context.Background(), bytes.NewReader(data), sidecar, ReaderOptions{}); err != ErrNoIdentity {
					t.Errorf("without identity: got %v, want ErrNoIdentity", err)
				}
				other, _ := age.GenerateX25519Identity()
				if _, err := Verify(context.Background(), bytes.NewReader(data), sidecar, ReaderOptions{Identities: []age.Identity{other}}); err != ErrNoIdentity {
					t.Errorf("wrong identity: got %v, want ErrNoIdentity", err)
				}
			}
		})
	}
}

func TestScanResultInManifest(t *testing.T) {
	_, sidecar := build(t, WriterOptions{ChunkSize: 7}, testDump)
	tables := sidecar.Database.Tables
	if len(tables) != 1 || tables[0].Name != "_1_users" || tables[0].Rows != 3 || tables[0].Engine != "InnoDB" || tables[0].Database != "appwrite" {
		t.Errorf("tables = %+v", tables)
	}
}

func TestTamperingIsCaught(t *testing.T) {
	data, sidecar := build(t, WriterOptions{ChunkSize: 40}, testDump)
	plainTar := func() []byte {
		plain, done, _ := Decompress(bytes.NewReader(data), false, nil)
		defer done()
		b, _ := io.ReadAll(plain)
		return b
	}
	// rebuild re-compresses a modified tar, so the damage is inside and
	// only the entry checks can find it (the object hash is dropped).
	rebuild := func(mod func(entries []tarEntry) []tarEntry) ([]byte, *Manifest) {
		entries := readTar(t, plainTar())
		entries = mod(entries)
		var raw bytes.Buffer
		tw := tar.NewWriter(&raw)
		for _, e := range entries {
			tw.WriteHeader(e.hdr)
			tw.Write(e.body)
		}
		tw.Close()
		var out bytes.Buffer
		w, _ := NewWriter(&out, WriterOptions{Concurrency: 1})
		w.zw.Write(raw.Bytes())
		w.zw.Close()
		s := *sidecar
		s.Object = nil
		return out.Bytes(), &s
	}
	tests := []struct {
		name string
		data func() ([]byte, *Manifest)
		want string
	}{
		{"flipped byte in a chunk", func() ([]byte, *Manifest) {
			return rebuild(func(es []tarEntry) []tarEntry {
				for i := range es {
					if es[i].hdr.Name == ChunkName(1) {
						es[i].body[3] ^= 0x01
					}
				}
				return es
			})
		}, ChunkName(1) + " is damaged"},
		{"missing entry", func() ([]byte, *Manifest) {
			return rebuild(func(es []tarEntry) []tarEntry { return append(es[:1:1], es[2:]...) })
		}, "lacks entry compose/.env"},
		{"extra entry", func() ([]byte, *Manifest) {
			return rebuild(func(es []tarEntry) []tarEntry {
				extra := tarEntry{hdr: &tar.Header{Name: "compose/evil.sh", Typeflag: tar.TypeReg, Size: 2, Mode: 0o755}, body: []byte("hi")}
				return append([]tarEntry{extra}, es...)
			})
		}, "compose/evil.sh is not in the manifest"},
		{"entry escaping with ..", func() ([]byte, *Manifest) {
			return rebuild(func(es []tarEntry) []tarEntry {
				es[0].hdr.Name = "compose/../../etc/cron.d/x"
				return es
			})
		}, "escapes"},
		{"manifest missing (cut short)", func() ([]byte, *Manifest) {
			return rebuild(func(es []tarEntry) []tarEntry { return es[:len(es)-1] })
		}, "cut short"},
		{"truncated object", func() ([]byte, *Manifest) { return data[:len(data)-20], sidecar }, ""},
		{"object hash mismatch", func() ([]byte, *Manifest) {
			s := *sidecar
			s.Object = &ObjectInfo{Size: sidecar.Object.Size, SHA256: strings.Repeat("0", 64)}
			return data, &s
		}, "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, s := tt.data()
			_, err := Verify(context.Background(), bytes.NewReader(d), s, ReaderOptions{})
			if err == nil {
				t.Fatal("verify passed a damaged archive")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

func readTar(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out = append(out, tarEntry{hdr, body})
	}
}

// TestStandardToolsUnpack follows docs/emergency.md: age -d | tar --zstd, and the
// chunks concatenated give back the dump.
func TestStandardToolsUnpack(t *testing.T) {
	for _, tool := range []string{"tar", "zstd", "age"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make setup installs it)", tool)
		}
	}
	x, _ := age.GenerateX25519Identity()
	recips, _ := ParseRecipients([]string{x.Recipient().String()})
	dir := t.TempDir()
	for _, enc := range []bool{false, true} {
		opts := WriterOptions{ChunkSize: 30}
		if enc {
			opts.Recipients = recips
		}
		data, _ := build(t, opts, testDump)
		archivePath := filepath.Join(dir, fmt.Sprintf("a-%v", enc))
		os.WriteFile(archivePath, data, 0o600)
		keyPath := filepath.Join(dir, "key.txt")
		os.WriteFile(keyPath, []byte(x.String()+"\n"), 0o600)
		script := `tar --zstd -xO -f "$1" --wildcards 'db/dump.sql.*'`
		if enc {
			script = `age -d -i "$2" "$1" | tar --zstd -xO --wildcards 'db/dump.sql.*'`
		}
		out, err := exec.Command("sh", "-c", script, "sh", archivePath, keyPath).Output()
		if err != nil {
			t.Fatalf("encrypted=%v: %v", enc, err)
		}
		if string(out) != testDump {
			t.Errorf("encrypted=%v: the chunks give %q", enc, out)
		}
	}
}

func TestParseRecipientsRejectsPrivateKeys(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	if _, err := ParseRecipients([]string{x.String()}); err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("got %v", err)
	}
	if _, err := ParseRecipients([]string{"age1notakey"}); err == nil {
		t.Error("accepted a malformed age key")
	}
	_ = agessh.ParseRecipient
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"compose/.env": true, "volumes/a/b c/ü.txt": true, "db/dump.sql.00000": true,
		"/etc/passwd": false, "../x": false, "a/../../x": false, "a\\b": false, "": false, "a//b": false, "./a": false,
	} {
		if err := checkName(name); (err == nil) != ok {
			t.Errorf("checkName(%q) = %v", name, err)
		}
	}
}

func FuzzReader(f *testing.F) {
	data, sidecar := build(f, WriterOptions{ChunkSize: 40}, testDump)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := Verify(context.Background(), bytes.NewReader(in), sidecar, ReaderOptions{})
		if err == nil && !bytes.Equal(in, data) {
			t.Fatalf("verified bytes that are not the archive: %+v", rep)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	_, sidecar := build(f, WriterOptions{ChunkSize: 40}, testDump)
	good, _ := sidecar.Marshal()
	f.Add(good)
	f.Add([]byte(`{"format":99,"name":"x","stack":"y"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseManifest(in)
		if err != nil {
			return
		}
		if m.Format < 1 || m.Format > FormatVersion || m.Name == "" {
			t.Fatalf("accepted %+v", m)
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(again); err != nil {
			t.Fatalf("a parsed manifest does not parse after marshalling: %v", err)
		}
	})
}

func benchmarkDump(b *testing.B, recipients []age.Recipient) {
	row := "(12345,'doc12345','2026-11-25 08:00:00.000','[\"read(\\\"any\\\")\"]','" + strings.Repeat("lorem ipsum ", 40) + "'),"
	block := []byte("INSERT INTO `t` VALUES " + strings.Repeat(row, 2000) + "(1);\n")
	const total = 64 << 20
	b.SetBytes(total)
	for i := 0; i < b.N; i++ {
		w, _ := NewWriter(io.Discard, WriterOptions{ChunkSize: 8 << 20, Recipients: recipients})
		r := io.LimitReader(&repeatReader{data: block}, total)
		if _, err := w.AddDump(context.Background(), r); err != nil {
			b.Fatal(err)
		}
		w.Close(&Manifest{Name: "x", Stack: "y"})
	}
}

func BenchmarkAddDumpPlain(b *testing.B) { benchmarkDump(b, nil) }

func BenchmarkAddDumpEncrypted(b *testing.B) {
	x, _ := age.GenerateX25519Identity()
	benchmarkDump(b, []age.Recipient{x.Recipient()})
}

type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// sqlRows makes n bytes of extended-INSERT dump text, as mariadb-dump
// writes it.
type sqlRows struct{ n, max int64 }

func (g *sqlRows) Read(p []byte) (int, error) {
	if g.n >= g.max {
		return 0, io.EOF
	}
	s := 0
	var row []byte
	for s < len(p) && g.n < g.max {
		row = row[:0]
		if g.n%(1<<20) < 60 {
			row = append(row, "(0);\nINSERT INTO `_1_database_1_collection_1` VALUES "...)
		} else {
			row = append(row, '(')
			row = strconv.AppendInt(row, g.n, 10)
			row = append(row, ",'doc"...)
			row = strconv.AppendInt(row, g.n*7919, 16)
			row = append(row, "','2026-11-25 08:00:00.000','[\\\"read(\\\\\\\"any\\\\\\\")\\\"]','Title "...)
			row = strconv.AppendInt(row, g.n*31, 36)
			row = append(row, "'),"...)
		}
		c := copy(p[s:], row)
		s += c
		g.n += int64(c)
	}
	return s, nil
}

// TestDumpChunkIsNotHeldRaw streams 80 MiB of dump text in 64 MiB chunks:
// the heap stays far below one raw chunk, because a filling chunk is held
// as its compressed frames.
func TestDumpChunkIsNotHeldRaw(t *testing.T) {
	w, err := NewWriter(io.Discard, WriterOptions{ChunkSize: 64 << 20, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			// What is live, not what the collector has yet to reclaim: on
			// a busy machine it lags behind the allocations, and the
			// test measured the machine's load instead of what is held.
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// A soft limit makes the collector keep the heap near what is live,
	// which is what is measured: a chunk held raw would be 64 MiB live.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(32 << 20))
	runtime.GC()
	res, err := w.AddDump(context.Background(), &sqlRows{max: 80 << 20})
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Chunks) != 2 || res.Size != 80<<20 {
		t.Fatalf("chunks %d, size %d", len(res.Chunks), res.Size)
	}
	t.Logf("peak live heap %d MiB", peak.Load()>>20)
	if p := peak.Load(); p > 48<<20 {
		t.Errorf("heap in use reached %d MiB with 64 MiB chunks", p>>20)
	}
}
