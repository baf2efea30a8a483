package scan_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/scan/scantest"
)

// TestRealClamd runs Debian's clamd with a database made at test time
// from one planted file: the planted bytes are found, over the unix
// socket and the loopback port, and anything else is clean.
func TestRealClamd(t *testing.T) {
	planted := bytes.Repeat([]byte("<?php system($_GET['c']); ?>\n"), 5000) // several INSTREAM frames
	c := scantest.StartClamd(t, map[string][]byte{"webshell.php": planted})
	for _, addr := range []string{"unix:" + c.Socket, "tcp:" + c.TCP} {
		t.Run(addr, func(t *testing.T) {
			a, err := config.ParseClamd(addr)
			if err != nil {
				t.Fatal(err)
			}
			cl := scan.NewClamd(a.Kind, a.Target)
			ctx := context.Background()
			if err := cl.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			v, err := cl.Scan(ctx, bytes.NewReader(planted))
			if err != nil || !v.Infected || v.Signature != c.Signatures["webshell.php"] {
				t.Fatalf("planted file: %+v, %v; want %s", v, err, c.Signatures["webshell.php"])
			}
			v, err = cl.Scan(ctx, bytes.NewReader(append(bytes.Clone(planted), '\n')))
			if err != nil || v.Infected {
				t.Fatalf("a changed copy: %+v, %v; want clean (an MD5 signature matches exact bytes)", v, err)
			}
			// The test clamd's StreamMaxLength is 1M.
			_, err = cl.Scan(ctx, bytes.NewReader(make([]byte, 3<<20)))
			var re *scan.ReplyError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), "size limit") {
				t.Fatalf("a stream over StreamMaxLength: got %v, want clamd's size limit error", err)
			}
			if err := cl.Ping(ctx); err != nil {
				t.Fatalf("clamd after a refused stream: %v", err)
			}
		})
	}
	c.Stop()
	if err := scan.NewClamd("unix", c.Socket).Ping(context.Background()); !scan.IsUnreachable(err) {
		t.Fatalf("a stopped clamd: got %v, want unreachable", err)
	}
}
