package mariadb

import (
	"bytes"
	"strings"
	"testing"
)

func TestRewriteUsersStatement(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"an account: created only where missing",
			"CREATE USER `appwrite`@`%` IDENTIFIED BY PASSWORD '*DB14';\n",
			"CREATE USER IF NOT EXISTS `appwrite`@`%` IDENTIFIED BY PASSWORD '*DB14';\n"},
		{"a system account",
			"CREATE USER `mariadb.sys`@`localhost` ACCOUNT LOCK PASSWORD EXPIRE;\n",
			"CREATE USER IF NOT EXISTS `mariadb.sys`@`localhost` ACCOUNT LOCK PASSWORD EXPIRE;\n"},
		{"already idempotent",
			"CREATE USER IF NOT EXISTS `a`@`%`;\n", "CREATE USER IF NOT EXISTS `a`@`%`;\n"},
		{"a role",
			"/*M!100005 CREATE ROLE 'r1' WITH ADMIN mariadb_dump_import_role */;\n",
			"/*M!100005 CREATE ROLE IF NOT EXISTS 'r1' WITH ADMIN mariadb_dump_import_role */;\n"},
		{"a role, MySQL's form",
			"/*!80001 CREATE ROLE 'r1' */;\n", "/*!80001 CREATE ROLE IF NOT EXISTS 'r1' */;\n"},
		{"a grant with the password and options: the password goes, the options stay",
			"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED BY PASSWORD '*79D0' WITH GRANT OPTION;\n",
			"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION;\n"},
		{"a grant with the password only",
			"GRANT USAGE ON *.* TO `appwrite`@`%` IDENTIFIED BY PASSWORD '*DB14';\n",
			"GRANT USAGE ON *.* TO `appwrite`@`%`;\n"},
		{"an authentication plugin",
			"GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED VIA ed25519 USING 'x WITH y' OR unix_socket WITH MAX_QUERIES_PER_HOUR 5;\n",
			"GRANT USAGE ON *.* TO `u`@`%` WITH MAX_QUERIES_PER_HOUR 5;\n"},
		{"an account whose name holds the words",
			"GRANT USAGE ON *.* TO ` IDENTIFIED `@`%`;\n", "GRANT USAGE ON *.* TO ` IDENTIFIED `@`%`;\n"},
		{"a grant without a password",
			"GRANT SELECT ON `appwrite`.* TO `r1`;\n", "GRANT SELECT ON `appwrite`.* TO `r1`;\n"},
		{"anything else", "SET ROLE NONE;\n", "SET ROLE NONE;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RewriteUsersStatement(tt.in); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// usersDump is the end of a dump of mariadb-dump 10.11 with
// --system=users, with a routine whose body has statements of the forms
// the rewrite changes, and rows that look like them.
const usersDump = "INSERT INTO `t` VALUES\n(1,'a;\\nCREATE USER `x`@`%`;'),\n(2,'b');\nUNLOCK TABLES;\n" +
	"CREATE TABLE `g` (\n  `GRANT ` int\n);\n" +
	"\n--\n-- Dumping routines for database 'appwrite'\n--\n" +
	"DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` PROCEDURE `mk`()\nBEGIN\nCREATE USER `p`@`%`;\nGRANT ALL ON *.* TO `p`@`%` IDENTIFIED BY PASSWORD '*P';\nEND ;;\nDELIMITER ;\n" +
	"CREATE USER `mariadb.sys`@`localhost` ACCOUNT LOCK PASSWORD EXPIRE;\n" +
	"CREATE USER `root`@`localhost` IDENTIFIED BY PASSWORD '*79D0';\n" +
	"SELECT COALESCE(CURRENT_ROLE(),'NONE') into @current_role;\n" +
	"CREATE ROLE IF NOT EXISTS mariadb_dump_import_role;\n" +
	"/*M!100005 CREATE ROLE 'r1' WITH ADMIN mariadb_dump_import_role */;\n" +
	"GRANT SELECT, DELETE ON `mysql`.`global_priv` TO `mariadb.sys`@`localhost`;\n" +
	"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED BY PASSWORD '*79D0' WITH GRANT OPTION;\n" +
	"GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION;\n" +
	"/*M!100005 SET DEFAULT ROLE NONE FOR 'root'@'localhost' */;\n" +
	"SET ROLE NONE;\nDROP ROLE mariadb_dump_import_role;\n" +
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n-- Dump completed on 2026-12-07  0:19:59"

const usersDumpRewritten = "INSERT INTO `t` VALUES\n(1,'a;\\nCREATE USER `x`@`%`;'),\n(2,'b');\nUNLOCK TABLES;\n" +
	"CREATE TABLE `g` (\n  `GRANT ` int\n);\n" +
	"\n--\n-- Dumping routines for database 'appwrite'\n--\n" +
	"DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` PROCEDURE `mk`()\nBEGIN\nCREATE USER `p`@`%`;\nGRANT ALL ON *.* TO `p`@`%` IDENTIFIED BY PASSWORD '*P';\nEND ;;\nDELIMITER ;\n" +
	"CREATE USER IF NOT EXISTS `mariadb.sys`@`localhost` ACCOUNT LOCK PASSWORD EXPIRE;\n" +
	"CREATE USER IF NOT EXISTS `root`@`localhost` IDENTIFIED BY PASSWORD '*79D0';\n" +
	"SELECT COALESCE(CURRENT_ROLE(),'NONE') into @current_role;\n" +
	"CREATE ROLE IF NOT EXISTS mariadb_dump_import_role;\n" +
	"/*M!100005 CREATE ROLE IF NOT EXISTS 'r1' WITH ADMIN mariadb_dump_import_role */;\n" +
	"GRANT SELECT, DELETE ON `mysql`.`global_priv` TO `mariadb.sys`@`localhost`;\n" +
	"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION;\n" +
	"GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION;\n" +
	"/*M!100005 SET DEFAULT ROLE NONE FOR 'root'@'localhost' */;\n" +
	"SET ROLE NONE;\nDROP ROLE mariadb_dump_import_role;\n" +
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n-- Dump completed on 2026-12-07  0:19:59"

// TestGrantsRewriter rewrites the users section and nothing before it (a
// routine's body, rows, a column), whatever the size of the writes.
func TestGrantsRewriter(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a dump with its users section", usersDump, usersDumpRewritten},
		{"a dump without one goes through as it is", strings.Split(usersDump, "CREATE USER `mariadb.sys`")[0], strings.Split(usersDump, "CREATE USER `mariadb.sys`")[0]},
		{"GRANT before the users section is left alone", "GRANT USAGE ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD '*A';\n", "GRANT USAGE ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD '*A';\n"},
		{"a last line without a newline", "CREATE USER `a`@`%`;", "CREATE USER IF NOT EXISTS `a`@`%`;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 7, 64, len(tt.in)} {
				var out bytes.Buffer
				g := NewGrantsRewriter(&out)
				for in := []byte(tt.in); len(in) > 0; {
					n := min(size, len(in))
					if k, err := g.Write(in[:n]); err != nil || k != n {
						t.Fatalf("Write = %d, %v", k, err)
					}
					in = in[n:]
				}
				if err := g.Close(); err != nil {
					t.Fatal(err)
				}
				if out.String() != tt.want {
					t.Errorf("writes of %d bytes:\n got %q\nwant %q", size, out.String(), tt.want)
				}
			}
		})
	}
}
