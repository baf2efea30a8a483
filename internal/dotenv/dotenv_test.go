package dotenv

import "testing"

// Whatever the input, a key Parse accepts is a valid one.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x'\n", "# c\nC=\"y\" # z\n", "=", "A=\"", "\ufeffA=1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		if err != nil {
			return
		}
		for k := range env {
			if !validKey(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
		}
	})
}
