package teststack

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// DefaultPacketLimit is MariaDB's default max_allowed_packet (16 MiB), the
// limit a fresh server on a new host has.
const DefaultPacketLimit = 16 << 20

// PacketLimit reads the server's GLOBAL max_allowed_packet.
func (s *Stack) PacketLimit(t testing.TB) int64 {
	t.Helper()
	out := s.SQL(t, "SELECT @@global.max_allowed_packet")
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("reading max_allowed_packet %q: %v", out, err)
	}
	return n
}

// UseDefaultPacketLimit makes the server's limit the default for the rest
// of the test, whatever the image's configuration says, and puts the
// image's own value back at the end.
func (s *Stack) UseDefaultPacketLimit(t testing.TB) {
	t.Helper()
	was := s.PacketLimit(t)
	if was == DefaultPacketLimit {
		return
	}
	s.SQL(t, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", DefaultPacketLimit))
	t.Cleanup(func() { s.SQL(t, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", was)) })
}

// InsertLargeRows fills table (id INT, v LONGBLOB) with one row per size,
// ids from 1, of random bytes (a random KiB repeated: cheap to make, and
// never a valid UTF-8 string). The server refuses to build a value over
// its own limit, so the limit is raised for the insert only and put back.
func (s *Stack) InsertLargeRows(t testing.TB, table string, sizes ...int) {
	t.Helper()
	was := s.PacketLimit(t)
	s.SQL(t, "SET GLOBAL max_allowed_packet = 1073741824")
	defer s.SQL(t, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", was))
	for i, size := range sizes {
		if size%1024 != 0 {
			t.Fatalf("row size %d is not a whole number of KiB", size)
		}
		// A new connection, so the raised limit applies to it.
		s.SQL(t, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, REPEAT(RANDOM_BYTES(1024), %d))", table, i+1, size/1024))
	}
	got := s.SQL(t, "SELECT COALESCE(SUM(LENGTH(v)), 0) FROM "+table)
	want := 0
	for _, size := range sizes {
		want += size
	}
	if got != strconv.Itoa(want) {
		t.Fatalf("%s holds %s bytes, want %d: the server did not build the rows", table, got, want)
	}
}

// RowSums is every row of a table (id INT, v LONGBLOB) as "id length
// sha256", one line each by id: equal means equal content.
func (s *Stack) RowSums(t testing.TB, table string) string {
	t.Helper()
	return s.SQL(t, "SELECT id, LENGTH(v), SHA2(v, 256) FROM "+table+" ORDER BY id")
}
