package postgres

import (
	"context"
	"io"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
)

// scriptedExec answers each exec by the script's name (the argument after
// sh -c's script) with what that entry prints, and records the calls.
type scriptedExec struct {
	out   map[string]string
	calls []string
	stdin []string
}

func (f *scriptedExec) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	name := opts.Cmd[3]
	f.calls = append(f.calls, name)
	if opts.Stdin != nil {
		b, _ := io.ReadAll(opts.Stdin)
		f.stdin = append(f.stdin, string(b))
	}
	if opts.Stdout != nil {
		io.WriteString(opts.Stdout, f.out[name])
	}
	return &engine.ExecResult{}, nil
}

func TestSurveyAside(t *testing.T) {
	tests := []struct {
		name      string
		survey    string
		relations string
		wantSizes map[string]int64
		wantRels  map[string][]Relation
		wantFree  int64
		wantErr   string // in FreeErr
		wantCalls []string
	}{
		{
			name:      "both databases, free space",
			survey:    "size\tappwrite\t8000\nsize\tappwrite_logs\t700\nfree\t1024\n",
			relations: "appwrite\tpublic.users\tf\nappwrite\tpublic.active\tt\nappwrite_logs\tpublic.logs\tf\n",
			wantSizes: map[string]int64{"appwrite": 8000, "appwrite_logs": 700},
			wantRels: map[string][]Relation{
				"appwrite":      {{Name: "public.users"}, {Name: "public.active", View: true}},
				"appwrite_logs": {{Name: "public.logs"}},
			},
			wantFree:  1 << 20,
			wantCalls: []string{"dr-survey", "dr-relations"},
		},
		{
			name:      "no database yet: nothing to list",
			survey:    "free\t0\n",
			wantSizes: map[string]int64{},
			wantRels:  map[string][]Relation{},
			wantCalls: []string{"dr-survey"},
		},
		{
			name:      "a database a killed rename closed is opened before it is listed",
			survey:    "size\tappwrite\t8000\nclosed\tappwrite\t\nfree\t4\n",
			relations: "appwrite\tpublic.users\tf\n",
			wantSizes: map[string]int64{"appwrite": 8000},
			wantRels:  map[string][]Relation{"appwrite": {{Name: "public.users"}}},
			wantFree:  4096,
			wantCalls: []string{"dr-survey", "dr-exec", "dr-relations"},
		},
		{
			name:      "df failed",
			survey:    "free-error\tdf: /var/lib/postgresql/data: No such file or directory \n",
			wantSizes: map[string]int64{},
			wantRels:  map[string][]Relation{},
			wantErr:   "No such file or directory",
			wantCalls: []string{"dr-survey"},
		},
		{
			name:      "df said nothing",
			survey:    "",
			wantSizes: map[string]int64{},
			wantRels:  map[string][]Relation{},
			wantErr:   "df said nothing",
			wantCalls: []string{"dr-survey"},
		},
		{
			name:      "df said something else",
			survey:    "free\t12.5\n",
			wantSizes: map[string]int64{},
			wantRels:  map[string][]Relation{},
			wantErr:   `df said "12.5"`,
			wantCalls: []string{"dr-survey"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &scriptedExec{out: map[string]string{"dr-survey": tt.survey, "dr-relations": tt.relations}}
			sv, err := New(f, "c").SurveyAside(context.Background(), []string{"appwrite", "appwrite_logs"})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(sv.Sizes, tt.wantSizes) {
				t.Errorf("sizes %v, want %v", sv.Sizes, tt.wantSizes)
			}
			if !reflect.DeepEqual(sv.Relations, tt.wantRels) {
				t.Errorf("relations %v, want %v", sv.Relations, tt.wantRels)
			}
			if sv.Free != tt.wantFree {
				t.Errorf("free %d, want %d", sv.Free, tt.wantFree)
			}
			if tt.wantErr == "" && sv.FreeErr != nil || tt.wantErr != "" && (sv.FreeErr == nil || !strings.Contains(sv.FreeErr.Error(), tt.wantErr)) {
				t.Errorf("free error %v, want one saying %q", sv.FreeErr, tt.wantErr)
			}
			if !reflect.DeepEqual(f.calls, tt.wantCalls) {
				t.Errorf("execs %v, want %v", f.calls, tt.wantCalls)
			}
			for _, in := range f.stdin {
				if !strings.Contains(in, `ALTER DATABASE "appwrite" WITH ALLOW_CONNECTIONS true`) {
					t.Errorf("the reopen ran %q", in)
				}
			}
		})
	}
}
