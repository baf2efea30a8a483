package onboard

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeEngine is the engine as discovery sees it.
type fakeEngine struct {
	projects []*engine.Stack
	mounts   map[string][]engine.VolumeMount
	err      error
}

func (f *fakeEngine) ComposeProjects(context.Context) ([]*engine.Stack, error) {
	return f.projects, f.err
}

func (f *fakeEngine) VolumeMounts(_ context.Context, s *engine.Stack) ([]engine.VolumeMount, error) {
	return f.mounts[s.Project], nil
}

func project(name, dir string, services ...[2]string) *engine.Stack {
	s := &engine.Stack{Project: name, WorkingDir: dir}
	for _, svc := range services {
		s.Containers = append(s.Containers, engine.Container{
			ID: name + "-" + svc[0], Name: name + "-" + svc[0] + "-1", Service: svc[0], Image: svc[1], Running: true,
			Labels: map[string]string{
				engine.LabelProject:    name,
				engine.LabelService:    svc[0],
				engine.LabelWorkingDir: dir,
				engine.LabelConfigFile: filepath.Join(dir, "docker-compose.yml"),
			},
		})
	}
	return s
}

func appwriteMounts() []engine.VolumeMount {
	return []engine.VolumeMount{
		{Service: "appwrite", Key: "appwrite-builds", Name: "appwrite_appwrite-builds"},
		{Service: "appwrite", Key: "appwrite-cache", Name: "appwrite_appwrite-cache"},
		{Service: "appwrite", Key: "appwrite-uploads", Name: "appwrite_appwrite-uploads"},
		{Service: "mariadb", Key: "appwrite-mariadb", Name: "appwrite_appwrite-mariadb"},
		{Service: "redis", Key: "appwrite-redis", Name: "appwrite_appwrite-redis"},
		{Service: "worker", Key: "appwrite-uploads", Name: "appwrite_appwrite-uploads"},
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("X=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	appwrite := project("appwrite", dir, [2]string{"appwrite", "appwrite/appwrite:1.6"}, [2]string{"mariadb", "mariadb:10.11"}, [2]string{"redis", "redis:7"})
	blog := project("blog", "/srv/blog", [2]string{"db", "mysql:8"}, [2]string{"web", "wordpress"})
	web := project("web", "/srv/web", [2]string{"nginx", "nginx"})
	mongo := project("mongo", "/srv/m", [2]string{"mongodb", "mongo:7"})
	pg := project("appwritepg", "/srv/pg", [2]string{"appwrite", "appwrite/appwrite:1.9"}, [2]string{"postgresql", "postgres:17"})
	pgOther := project("shop", "/srv/shop", [2]string{"db", "postgis/postgis:16"})

	tests := []struct {
		name      string
		projects  []*engine.Stack
		opts      Options
		want      string
		wantErr   error
		wantSever []string
	}{
		{name: "one candidate", projects: []*engine.Stack{appwrite, web, mongo}, want: "appwrite"},
		{name: "none", projects: []*engine.Stack{web}, wantErr: ErrNoCandidate},
		{name: "only MongoDB", projects: []*engine.Stack{web, mongo}, wantErr: errors.New("mongo runs MongoDB")},
		{name: "several", projects: []*engine.Stack{appwrite, blog, web}, wantSever: []string{"appwrite", "blog"}},
		{name: "several, chosen", projects: []*engine.Stack{appwrite, blog}, opts: Options{Project: "blog"}, want: "blog"},
		{name: "Appwrite on PostgreSQL", projects: []*engine.Stack{pg, web, mongo}, want: "appwritepg"},
		{name: "a postgres image under another name", projects: []*engine.Stack{pgOther, web}, want: "shop"},
		{name: "MariaDB and PostgreSQL stacks", projects: []*engine.Stack{appwrite, pg}, wantSever: []string{"appwrite", "appwritepg"}},
		{name: "chosen is not a candidate", projects: []*engine.Stack{appwrite, web}, opts: Options{Project: "web"}, wantErr: errors.New("candidates: appwrite")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &fakeEngine{projects: tt.projects, mounts: map[string][]engine.VolumeMount{"appwrite": appwriteMounts()}}
			got, err := Discover(context.Background(), eng, tt.opts)
			var several *SeveralError
			switch {
			case tt.wantSever != nil:
				if !errors.As(err, &several) || !slices.Equal(several.Projects, tt.wantSever) || !strings.Contains(err.Error(), "--project NAME") {
					t.Fatalf("err = %v, want the candidates %v and --project", err, tt.wantSever)
				}
			case tt.wantErr != nil:
				if err == nil || (!errors.Is(err, tt.wantErr) && !strings.Contains(err.Error(), tt.wantErr.Error())) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if errors.Is(tt.wantErr, ErrNoCandidate) && !strings.Contains(err.Error(), "looked for") {
					t.Errorf("err = %v, does not say what was looked for", err)
				}
			case err != nil:
				t.Fatal(err)
			case got.Project != tt.want:
				t.Fatalf("project = %s, want %s", got.Project, tt.want)
			}
		})
	}
}

func TestDiscoverAppwrite(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("X=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := project("appwrite", dir, [2]string{"appwrite", "appwrite/appwrite:1.6"}, [2]string{"mariadb", "mariadb:10.11"})
	p.Containers[0].Labels[engine.LabelConfigFile] = filepath.Join(dir, "docker-compose.yml") + "," + filepath.Join(dir, "docker-compose.override.yml") + ",/etc/elsewhere.yml"
	eng := &fakeEngine{projects: []*engine.Stack{p}, mounts: map[string][]engine.VolumeMount{"appwrite": appwriteMounts()}}
	got, err := Discover(context.Background(), eng, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"docker-compose.yml", "docker-compose.override.yml", ".env"}; !slices.Equal(got.Files, want) {
		t.Errorf("files = %v, want %v", got.Files, want)
	}
	if want := []string{"appwrite-builds", "appwrite-uploads"}; !slices.Equal(got.Volumes, want) {
		t.Errorf("volumes = %v, want %v", got.Volumes, want)
	}
	var skipped []string
	for _, s := range got.Skipped {
		skipped = append(skipped, s.Name)
	}
	if want := []string{"appwrite-cache", "appwrite-mariadb", "appwrite-redis"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped = %v, want %v", skipped, want)
	}
	if got.DBService != "mariadb" || got.Dir != dir {
		t.Errorf("db service %q, dir %q", got.DBService, got.Dir)
	}
	if len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "/etc/elsewhere.yml") {
		t.Errorf("notes = %q, want one about the compose file outside the directory", got.Notes)
	}

	// --dir: the files are looked for there; no .env there is a note.
	other := t.TempDir()
	got, err = Discover(context.Background(), eng, Options{Dir: other})
	if err != nil {
		t.Fatal(err)
	}
	if got.Dir != other || slices.Contains(got.Files, ".env") || !strings.Contains(strings.Join(got.Notes, "\n"), "no .env") {
		t.Errorf("with --dir: dir %s, files %v, notes %q", got.Dir, got.Files, got.Notes)
	}
}

func TestRenderConfigGolden(t *testing.T) {
	s := &Stack{
		Project: "appwrite", Dir: "/root/appwrite", Files: []string{"docker-compose.yml", ".env"},
		DBService: "mariadb", DBImage: "mariadb:10.11",
		Volumes: []string{"appwrite-builds", "appwrite-uploads"},
		Skipped: []Skipped{{"appwrite-cache", "a cache that rebuilds itself (in stack.exclude_volumes)"}, {"appwrite-mariadb", "the database's data directory: the dump covers it"}},
	}
	for _, tt := range []struct{ name, dest string }{{"default", ""}, {"s3", "s3:bucket/appwrite"}} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := RenderConfig(ConfigInput{Stack: s, Destination: tt.dest})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "dr."+tt.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != string(want) {
				t.Errorf("dr.yaml differs from %s (go test -update to accept):\n%s", golden, data)
			}
			cfg, err := config.Parse(data, "dr.yaml", func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Stack.Project != "appwrite" || !slices.Equal(cfg.Stack.Volumes, s.Volumes) || len(cfg.Destinations) != 1 {
				t.Errorf("loaded back: %+v", cfg.Stack)
			}
		})
	}
}

func TestRenderConfigQuotes(t *testing.T) {
	s := &Stack{Project: "odd", Dir: "/srv/a dir: with #hash", Files: []string{"compose file.yml"}, DBService: "db", DBImage: "mysql:8"}
	data, err := RenderConfig(ConfigInput{Stack: s, Destination: "/var/backups/x y"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(data, "dr.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Stack.Dir != s.Dir || cfg.Stack.Files[0] != "compose file.yml" || cfg.Destinations[0].Remote != "/var/backups/x y" || len(cfg.Stack.Volumes) != 0 {
		t.Errorf("loaded back: %+v %+v", cfg.Stack, cfg.Destinations)
	}
}

func TestDestinationName(t *testing.T) {
	for remote, want := range map[string]string{
		"/var/backups/a":       "local",
		"s3:bucket/a":          "s3",
		"My Remote:path":       "my-remote",
		":webdav,url='x':":     "local",
		"gdrive:":              "gdrive",
		"B2_Backups:bucket/ap": "b2_backups",
	} {
		if got := destinationName(remote); got != want {
			t.Errorf("destinationName(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "dr.yaml")
	if err := WriteFile(path, []byte("one\n"), false); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("written file: %v, mode %v", err, st.Mode())
	}
	if err := WriteFile(path, []byte("two\n"), false); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second write without force: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "one\n" {
		t.Fatalf("the file was changed: %q", got)
	}
	if err := WriteFile(path, []byte("two\n"), true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "two\n" {
		t.Fatalf("--force did not replace: %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestChoose(t *testing.T) {
	projects := []string{"appwrite", "blog"}
	for _, tt := range []struct {
		in, want string
		fails    bool
	}{
		{in: "2\n", want: "blog"},
		{in: "appwrite\n", want: "appwrite"},
		{in: "9\nblog\n", want: "blog"},
		{in: "", fails: true},
		{in: "x\ny\nz\nblog\n", fails: true},
	} {
		var out strings.Builder
		got, err := Choose(strings.NewReader(tt.in), &out, projects)
		if tt.fails {
			if err == nil || !strings.Contains(err.Error(), "--project") {
				t.Errorf("Choose(%q) = %q, %v; want an error naming --project", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Choose(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !strings.Contains(out.String(), "2) blog") {
			t.Errorf("the list was not shown: %q", out.String())
		}
	}
}

func TestNewIdentity(t *testing.T) {
	id, err := NewIdentity(timeZero)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id.Recipient, "age1") || !strings.Contains(string(id.File), "AGE-SECRET-KEY-1") || !strings.Contains(string(id.File), id.Recipient) {
		t.Errorf("identity file %q, recipient %q", id.File, id.Recipient)
	}
}

// FuzzComposeFiles: whatever the compose label holds (it comes from
// whoever started the stack), every file written to stack.files is
// relative and stays inside the directory, as the config loader demands.
func FuzzComposeFiles(f *testing.F) {
	f.Add("/root/appwrite", "/root/appwrite/docker-compose.yml")
	f.Add("/root/appwrite", "/root/appwrite/a.yml,/root/appwrite/sub/b.yml,/etc/c.yml")
	f.Add("/srv", "../x.yml,,docker-compose.yml")
	f.Fuzz(func(t *testing.T, dir, label string) {
		if !filepath.IsAbs(dir) {
			return
		}
		var notes []string
		for _, file := range composeFiles(filepath.Clean(dir), label, &notes) {
			if file == "" || file == "." || filepath.IsAbs(file) || strings.HasPrefix(filepath.Clean(file), "..") {
				t.Errorf("composeFiles(%q, %q) gave %q", dir, label, file)
			}
		}
	})
}
