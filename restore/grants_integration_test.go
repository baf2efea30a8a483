package restore

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestRestoreWithGrants is issue 21's item 3 on the real stack: a backup
// with include_grants restores into a server that has accounts of its own
// (every server has root@localhost and mariadb.sys), over one connection
// and over several. An account the server lost comes back with its
// grants and password; one it still has keeps the password it has now.
func TestRestoreWithGrants(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	for _, connections := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d connections", connections), func(t *testing.T) {
			cfg, dests := setup(t, s)
			cfg.Stack.Volumes = nil
			cfg.Stack.Database.IncludeGrants = true
			cfg.Restore.ImportConnections = connections
			t.Cleanup(func() { s.SQL(t, "DROP USER IF EXISTS 'dr_lost'@'%', 'dr_kept'@'%'; DROP ROLE IF EXISTS dr_readers") })
			s.SQL(t, "CREATE ROLE dr_readers; GRANT SELECT ON appwrite.* TO dr_readers; "+
				"CREATE USER 'dr_lost'@'%' IDENTIFIED BY 'lost-pw'; GRANT SELECT, INSERT ON appwrite_logs.* TO 'dr_lost'@'%'; GRANT dr_readers TO 'dr_lost'@'%'; "+
				"CREATE USER 'dr_kept'@'%' IDENTIFIED BY 'old-pw'")
			res := takeBackup(t, eng, cfg, dests)
			want := dbChecksums(t, s)

			// Since the backup: an account and a role lost, a password
			// changed, rows deleted.
			s.SQL(t, "DROP USER 'dr_lost'@'%'; DROP ROLE dr_readers; ALTER USER 'dr_kept'@'%' IDENTIFIED BY 'new-pw'; DELETE FROM appwrite_logs.logs")
			keptHash := s.SQL(t, "SELECT authentication_string FROM mysql.user WHERE user = 'dr_kept'")
			rootHash := s.SQL(t, "SELECT GROUP_CONCAT(host, authentication_string ORDER BY host) FROM mysql.user WHERE user = 'root'")

			if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}}); err != nil {
				t.Fatalf("restore of a backup with its grants: %v", err)
			}
			if got := dbChecksums(t, s); !maps.Equal(want, got) {
				t.Errorf("the database differs from the backup:\n got %v\nwant %v", got, want)
			}
			if got := s.SQL(t, "SELECT authentication_string = PASSWORD('lost-pw') FROM mysql.user WHERE user = 'dr_lost' AND host = '%'"); got != "1" {
				t.Errorf("the lost account is not back with its password: %q", got)
			}
			grants := s.SQL(t, "SHOW GRANTS FOR 'dr_lost'@'%'")
			for _, g := range []string{"GRANT SELECT, INSERT ON `appwrite_logs`.*", "GRANT `dr_readers` TO `dr_lost`@`%`"} {
				if !strings.Contains(grants, g) {
					t.Errorf("the lost account lacks %q; it has:\n%s", g, grants)
				}
			}
			if got := s.SQL(t, "SHOW GRANTS FOR dr_readers"); !strings.Contains(got, "GRANT SELECT ON `appwrite`.* TO `dr_readers`") {
				t.Errorf("the lost role is not back with its grants: %s", got)
			}
			if got := s.SQL(t, "SELECT authentication_string FROM mysql.user WHERE user = 'dr_kept'"); got != keptHash {
				t.Errorf("the password of an account the server has was changed by the restore: %q, was %q", got, keptHash)
			}
			if got := s.SQL(t, "SELECT GROUP_CONCAT(host, authentication_string ORDER BY host) FROM mysql.user WHERE user = 'root'"); got != rootHash {
				t.Errorf("root's password changed: %q, was %q", got, rootHash)
			}
		})
	}
}
