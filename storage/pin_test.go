package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// The upgrade-failed runbook's choice on the in-memory store: the newest
// pinned backup, wherever its pin is, with its note, never a newer
// unpinned one; unpinning it falls back to the next pinned one; with no
// pin at all the error says how to make one.
func TestChoosePinnedWithFakes(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, "a", remotetest.Memory(t), nil), open(t, "b", remotetest.Memory(t), nil)
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	put := func(h int, dests ...*Destination) string {
		name := archive.ObjectName("appwrite", at(h), false)
		upload(t, dests, name, []byte("backup"))
		return name
	}
	oldPin := put(1, a)
	beforeUpgrade := put(2, a, b)
	put(3, a)
	newest := put(4, a, b)
	if err := a.Pin(ctx, oldPin, at(1)); err != nil {
		t.Fatal(err)
	}
	// Pinned on the second destination only: the catalog's entry is
	// pinned all the same.
	if existing, err := b.PinWithNote(ctx, beforeUpgrade, at(2), "before 1.8.1"); err != nil || existing != nil {
		t.Fatalf("PinWithNote = %v, %v; want a new pin", existing, err)
	}

	q := Query{Stack: "appwrite", Pinned: true}
	got, _, err := ChooseFrom(ctx, []*Destination{a, b}, q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != beforeUpgrade || !got.Pinned || got.PinNote != "before 1.8.1" {
		t.Errorf("chose %s (pinned %v, note %q), want %s pinned with its note", got.Name, got.Pinned, got.PinNote, beforeUpgrade)
	}
	if latest, _, err := ChooseFrom(ctx, []*Destination{a, b}, Query{Stack: "appwrite"}); err != nil || latest.Name != newest || latest.Pinned {
		t.Errorf("without Pinned the choice is %s (pinned %v, %v), want the newest, %s, unpinned", latest.Name, latest.Pinned, err, newest)
	}

	if got, _, err := ChooseFrom(ctx, []*Destination{a, b}, Query{Stack: "appwrite", Pinned: true, Before: at(2)}); err != nil || got.Name != oldPin {
		t.Errorf("pinned before %s: chose %s (%v), want %s", at(2), got.Name, err, oldPin)
	}
	if err := b.Unpin(ctx, beforeUpgrade); err != nil {
		t.Fatal(err)
	}
	if got, _, err := ChooseFrom(ctx, []*Destination{a, b}, q); err != nil || got.Name != oldPin || got.PinNote != "" {
		t.Errorf("after unpinning, chose %s (note %q, %v), want the older pinned %s", got.Name, got.PinNote, err, oldPin)
	}

	if err := a.Unpin(ctx, oldPin); err != nil {
		t.Fatal(err)
	}
	_, _, err = ChooseFrom(ctx, []*Destination{a, b}, q)
	if err == nil || !strings.Contains(err.Error(), "pinned") || !strings.Contains(err.Error(), "dr backup --pin") {
		t.Errorf("with no pin, ChooseFrom = %v; want an error saying how to pin one", err)
	}
}

// Pins are written once: pinning again with another note changes nothing
// and returns the pin that stands; a pin written by an older dr (no note
// line) reads as pinned without a note.
func TestPinNoteIsWrittenOnceWithFakes(t *testing.T) {
	ctx := context.Background()
	d := open(t, "mem", remotetest.Memory(t), nil)
	name := archive.ObjectName("appwrite", when, false)
	upload(t, []*Destination{d}, name, []byte("backup"))

	if p, err := d.ReadPin(ctx, name); err != nil || p != nil {
		t.Fatalf("ReadPin of an unpinned backup = %v, %v", p, err)
	}
	if _, err := d.PinWithNote(ctx, name, when, "first"); err != nil {
		t.Fatal(err)
	}
	existing, err := d.PinWithNote(ctx, name, when.Add(time.Hour), "second")
	if err != nil || existing == nil || existing.Note != "first" || !existing.At.Equal(when) {
		t.Fatalf("pinning again = %+v, %v; want the standing pin with note first", existing, err)
	}
	l, err := d.List(ctx)
	if err != nil || len(l) != 1 || !l[0].Pinned || l[0].PinNote != "first" {
		t.Fatalf("List = %+v, %v; want the backup pinned with note first", l, err)
	}
	if _, err := d.PinWithNote(ctx, name, when, "two\nlines"); err == nil {
		t.Error("a note with a line break was accepted")
	}
	if _, err := d.PinWithNote(ctx, archive.ObjectName("appwrite", when.Add(time.Hour), false), when, ""); err == nil {
		t.Error("pinning a backup that does not exist succeeded")
	}
}

func TestCheckNote(t *testing.T) {
	for _, tc := range []struct {
		note string
		ok   bool
		says string
	}{
		{"", true, ""},
		{"before 1.8.1", true, ""},
		{"vor dem Update auf 1.8.1 — ünïcødé", true, ""},
		{strings.Repeat("x", MaxNoteLen), true, ""},
		{strings.Repeat("x", MaxNoteLen+1), false, "more than"},
		{"two\nlines", false, "line break"},
		{"tab\there", false, "control"},
		{"\x1b[31mred", false, "control"},
		{"bad \xff utf-8", false, "UTF-8"},
	} {
		err := CheckNote(tc.note)
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("CheckNote(%q) = %v, want ok=%v mentioning %q", tc.note, err, tc.ok, tc.says)
		}
	}
}

func TestParsePin(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		body string
		want PinInfo
	}{
		{"written by an older dr", "pinned 2026-11-25T08:00:00Z\n", PinInfo{At: at}},
		{"with a note", string(pinBody(at, "before 1.8.1")), PinInfo{At: at, Note: "before 1.8.1"}},
		{"CRLF", "pinned 2026-11-25T08:00:00Z\r\nnote: x\r\n", PinInfo{At: at, Note: "x"}},
		{"a planted escape sequence is cleaned", "note: \x1b[2J\x07gone", PinInfo{Note: "?[2J?gone"}},
		{"garbage", "\x00\xff", PinInfo{}},
	} {
		if got := parsePin([]byte(tc.body)); !got.At.Equal(tc.want.At) || got.Note != tc.want.Note {
			t.Errorf("%s: parsePin = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// A pin is outside input: whatever it holds, parsing never panics and
// the note it yields is one that dr list can print.
func FuzzParsePin(f *testing.F) {
	f.Add([]byte("pinned 2026-11-25T08:00:00Z\nnote: before 1.8.1\n"))
	f.Add([]byte("note: \x1b[2J"))
	f.Add([]byte("note: " + strings.Repeat("é", 300)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p := parsePin(data); CheckNote(p.Note) != nil {
			t.Errorf("parsePin(%q) gave note %q, which CheckNote refuses: %v", data, p.Note, CheckNote(p.Note))
		}
	})
}
