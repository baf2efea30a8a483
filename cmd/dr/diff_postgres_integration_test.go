package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// pgStackConfig is stackConfig for the PostgreSQL stack: its database
// service, the kind left to auto (told from the image).
func pgStackConfig(t *testing.T, s *teststack.Stack, extra string) string {
	t.Helper()
	cfg, _, _ := stackConfig(t, s, extra)
	body := strings.Replace(mustReadFile(t, cfg), "  volumes: []", "  volumes: []\n  database: {service: "+teststack.PGService+"}", 1)
	return writeConfig(t, body)
}

// TestPostgresDiffReportsWhatChanged: dr diff --live of a PostgreSQL
// stack with its fresh backup shows nothing; after a table, a row, a
// function, a trigger and a role are added it shows exactly those, as
// for MariaDB.
func TestPostgresDiffReportsWhatChanged(t *testing.T) {
	s := pgStack.Get(t)
	cfg := pgStackConfig(t, s, "")
	first := backupName(t, cfg, nil)
	out, errOut, code := run(t, nil, "diff", first, "--live", "--config", cfg)
	if code != exitOK || !strings.HasSuffix(out, "no differences\n") {
		t.Fatalf("diff of a fresh backup with the stack it came from: exit %d\n%s%s", code, out, errOut)
	}

	t.Cleanup(func() {
		s.PSQL(t, "appwrite", `DROP TABLE IF EXISTS public.dr_added; DROP TRIGGER IF EXISTS dr_added_trg ON public."_1_sessions"; DROP FUNCTION IF EXISTS public.dr_added_fn(); DELETE FROM public."_1_users" WHERE "_uid" = 'attacker'; DROP ROLE IF EXISTS dr_backdoor;`)
	})
	s.PSQL(t, "appwrite", `CREATE TABLE public.dr_added (id int); INSERT INTO public.dr_added VALUES (1), (2);
INSERT INTO public."_1_users" ("_uid", name, email) VALUES ('attacker', 'Mallory', 'mallory@example.test');
CREATE FUNCTION public.dr_added_fn() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER dr_added_trg AFTER INSERT ON public."_1_sessions" FOR EACH ROW EXECUTE FUNCTION public.dr_added_fn();
CREATE ROLE dr_backdoor LOGIN PASSWORD 'x';`)

	out, errOut, code = run(t, nil, "diff", first, "--live", "--config", cfg)
	if code != exitDiffers {
		t.Fatalf("diff after the changes: exit %d, want %d\n%s%s", code, exitDiffers, out, errOut)
	}
	want := []string{
		"dr diff " + first + " -> live",
		"~ table appwrite.public._1_users: rows 1000 -> 1001 (+1)",
		"+ table appwrite.public.dr_added (2 rows)",
		"+ function appwrite.public.dr_added_fn",
		"+ trigger appwrite.public.dr_added_trg",
		"+ user dr_backdoor",
		"5 differences",
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("dr diff --live printed\n%s\nwant exactly\n%s", out, strings.Join(want, "\n"))
	}
}

// TestPostgresDiffChecksumFindsRowsChangedInPlace: the PostgreSQL drill
// records its sums, and dr diff --live --checksum finds a row changed in
// place, which row counts cannot.
func TestPostgresDiffChecksumFindsRowsChangedInPlace(t *testing.T) {
	teststack.Extended(t)
	s := pgStack.Get(t)
	cfg := pgStackConfig(t, s, "drill:\n  memory: 512MiB\n")
	a := backupName(t, cfg, nil)
	out, errOut, code := run(t, nil, "drill", a, "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr drill: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "diff", a, "--live", "--checksum", "--config", cfg)
	if code != exitOK || !strings.HasSuffix(out, "no differences\n") {
		t.Fatalf("checksum diff of an untouched stack: exit %d\n%s%s", code, out, errOut)
	}

	orig := s.PSQL(t, "appwrite", `SELECT quote_literal(provider) FROM public."_1_sessions" WHERE "_id" = 1`)
	t.Cleanup(func() { s.PSQL(t, "appwrite", `UPDATE public."_1_sessions" SET provider = `+orig+` WHERE "_id" = 1`) })
	s.PSQL(t, "appwrite", `UPDATE public."_1_sessions" SET provider = 'attacker' WHERE "_id" = 1`)

	out, errOut, code = run(t, nil, "diff", a, "--live", "--config", cfg)
	if code != exitOK {
		t.Fatalf("row counts alone should not see an in-place update: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "diff", a, "--live", "--checksum", "--config", cfg)
	if code != exitDiffers || !strings.Contains(out, "~ table appwrite.public._1_sessions: checksum ") || !strings.HasSuffix(out, "1 difference\n") {
		t.Errorf("checksum diff after an in-place update: exit %d, want %d and exactly appwrite.public._1_sessions\n%s%s", code, exitDiffers, out, errOut)
	}
}
