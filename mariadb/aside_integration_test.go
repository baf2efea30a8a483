package mariadb

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestScriptAndSurvey: a script with DELIMITER blocks makes a stored
// program with ";" in its body, the survey reads the databases that exist
// and the datadir's free space inside the container, and aside schemas are no part of "all databases".
func TestScriptAndSurvey(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	ctx := context.Background()
	db := New(eng, s.ContainerID(t, teststack.DBService))

	sv, err := db.SurveyAside(ctx, []string{"appwrite", "dr_absent"})
	if err != nil || sv.Free <= 0 || sv.FreeErr != nil {
		t.Fatalf("SurveyAside = %+v, %v; want the datadir's free space", sv, err)
	}
	if !slices.Equal(sv.Existing, []string{"appwrite"}) || len(sv.Tables) == 0 {
		t.Errorf("SurveyAside saw databases %v and %d tables; want appwrite alone, with its tables", sv.Existing, len(sv.Tables))
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
