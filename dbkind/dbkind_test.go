package dbkind

import (
	"errors"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		configured, image string
		env               []string
		adapter           string
		want              string
		wantErr           string // a part of the error; "unsupported" means ErrNotSupported
	}{
		{"auto", "mariadb:10.11", []string{"MYSQL_ROOT_PASSWORD"}, "", MariaDB, ""},
		{"", "dr-test/mariadb:10.11", nil, "", MariaDB, ""},
		{"auto", "mysql:8.0", nil, "", MySQL, ""},
		{"auto", "postgres:17", nil, "", PostgreSQL, ""},
		{"auto", "dr-test/postgres:15", []string{"POSTGRES_PASSWORD"}, "", PostgreSQL, ""},
		{"auto", "registry.example/db:1", []string{"POSTGRES_USER"}, "", PostgreSQL, ""},
		{"auto", "postgis/postgis:16-3.4", nil, "", PostgreSQL, ""},
		{"auto", "custom/db:1", nil, "postgresql", PostgreSQL, ""},
		{"auto", "custom/db:1", nil, "", MariaDB, ""},
		{"auto", "mariadb:11", nil, "postgresql", MariaDB, ""},
		{"auto", "mongo:7", nil, "", "", "unsupported"},
		{"auto", "custom/db:1", []string{"MONGO_INITDB_ROOT_USERNAME"}, "", "", "unsupported"},
		{"auto", "custom/db:1", nil, "mongodb", "", "unsupported"},
		{"mongodb", "mariadb:10.11", nil, "", "", "unsupported"},
		{"mysql", "mariadb:10.11", nil, "", MySQL, ""},
		{"PostgreSQL", "custom/db:1", nil, "", PostgreSQL, ""},
		{"postgres", "postgres:16", nil, "", "", "want auto, mariadb, mysql, postgresql"},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.configured, tt.image, tt.env, tt.adapter)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Resolve(%q, %q, %q): unexpected error %v", tt.configured, tt.image, tt.adapter, err)
		case tt.wantErr == "unsupported" && (!errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "MongoDB")):
			t.Errorf("Resolve(%q, %q, %q): got %v, want ErrNotSupported naming MongoDB", tt.configured, tt.image, tt.adapter, err)
		case tt.wantErr != "" && tt.wantErr != "unsupported" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Resolve(%q, %q, %q): got %v, want an error containing %q", tt.configured, tt.image, tt.adapter, err, tt.wantErr)
		case got != tt.want:
			t.Errorf("Resolve(%q, %q, %q) = %q, want %q", tt.configured, tt.image, tt.adapter, got, tt.want)
		}
	}
}
