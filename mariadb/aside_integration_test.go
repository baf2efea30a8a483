package mariadb

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestScriptAndDataDirFree: a script with DELIMITER blocks makes a stored
// program with ";" in its body, the datadir's free space is read inside
// the container, and aside schemas are no part of "all databases".
func TestScriptAndDataDirFree(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	ctx := context.Background()
	db := New(eng, s.ContainerID(t, teststack.DBService))

	free, err := db.DataDirFree(ctx)
	if err != nil || free <= 0 {
		t.Fatalf("DataDirFree = %d, %v", free, err)
	}
	t.Cleanup(func() {
		s.SQL(t, "DROP PROCEDURE IF EXISTS appwrite.dr_two; DROP DATABASE IF EXISTS dr_aside_appwrite_20261126T080000Z")
	})
	out, err := db.Script(ctx, strings.NewReader("USE `appwrite`;\nDELIMITER ;;\nCREATE PROCEDURE dr_two() BEGIN SELECT 1; SELECT 2; END;;\nDELIMITER ;\nCALL dr_two();\nCREATE DATABASE dr_aside_appwrite_20261126T080000Z;\n"))
	if err != nil {
		t.Fatal(err)
	}
	if out != "1\n2\n" {
		t.Errorf("the procedure printed %q", out)
	}
	if _, err := db.Script(ctx, strings.NewReader("SELECT 1;\nRENAME TABLE appwrite.dr_no TO appwrite.dr_no2;\n")); err == nil || !strings.Contains(err.Error(), "dr_no") {
		t.Errorf("a failing script: %v, want the server's error", err)
	}
	info, err := db.Inspect(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Databases, teststack.SeedDatabases()) {
		t.Errorf("all databases = %v, want the aside schema left out", info.Databases)
	}
}
