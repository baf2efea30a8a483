// Package headless takes screenshots of pages with headless Chromium, for
// tests that must see a page as a browser renders it (the daemon's status
// page and its inline SVG charts).
package headless

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ErrNoBrowser means no Chromium is installed.
var ErrNoBrowser = errors.New("no chromium on PATH; install it with: apt-get install chromium")

// Browser finds Chromium on PATH.
func Browser() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Screenshot renders url in a width×height window and returns the PNG it
// wrote to out. The browser runs with a throwaway profile, removed after,
// and with every background connection off: the page's own address is the
// only traffic. It is killed with ctx or after a minute.
func Screenshot(ctx context.Context, url, out string, width, height int) (image.Image, error) {
	bin, err := Browser()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "dr-chromium-")
	if err != nil {
		return nil, fmt.Errorf("creating a browser profile: %w", err)
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, fmt.Errorf("screenshot path: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+profile, "--screenshot="+abs,
		fmt.Sprintf("--window-size=%d,%d", width, height), url)
	cmd.Dir = profile
	// Chromium logs D-Bus complaints on a headless server; keep them only
	// for the error.
	output, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("taking a screenshot of %s: %w\n%s", url, err, tail(string(output)))
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("reading the screenshot: %w\n%s", err, tail(string(output)))
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decoding the screenshot %s: %w", abs, err)
	}
	return img, nil
}

// Count returns how many pixels of img are exactly c (alpha ignored) and
// the smallest rectangle that holds them.
func Count(img image.Image, c color.RGBA) (int, image.Rectangle) {
	var n int
	var box image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				n++
				p := image.Rect(x, y, x+1, y+1)
				if box.Empty() {
					box = p
				} else {
					box = box.Union(p)
				}
			}
		}
	}
	return n, box
}

// Hex parses "#rrggbb".
func Hex(s string) (color.RGBA, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil || len(s) != 7 || s[0] != '#' {
		return color.RGBA{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}, nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}

// Skip skips the test when no Chromium is installed, naming the fix; with
// DR_INTEGRATION=required (as .ci/run sets) it fails instead.
func Skip(t testing.TB) {
	t.Helper()
	if _, err := Browser(); err != nil {
		if os.Getenv("DR_INTEGRATION") == "required" {
			t.Fatalf("%v (DR_INTEGRATION=required, so this is a failure)", err)
		}
		t.Skip(err.Error())
	}
}

// Tallest returns the longest vertical run of pixels of exactly c: a
// chart's bar, not text, whose glyphs are a few dozen pixels at most.
func Tallest(img image.Image, c color.RGBA) image.Rectangle {
	var best image.Rectangle
	b := img.Bounds()
	for x := b.Min.X; x < b.Max.X; x++ {
		start := -1
		for y := b.Min.Y; y <= b.Max.Y; y++ {
			match := false
			if y < b.Max.Y {
				r, g, bl, _ := img.At(x, y).RGBA()
				match = uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B
			}
			switch {
			case match && start < 0:
				start = y
			case !match && start >= 0:
				if y-start > best.Dy() {
					best = image.Rect(x, start, x+1, y)
				}
				start = -1
			}
		}
	}
	return best
}
