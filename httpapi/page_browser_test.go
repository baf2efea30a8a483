package httpapi

import (
	"context"
	"image"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/appwrite-dr/dr/internal/headless"
)

// TestStatusPageInChromium renders the status page in headless Chromium
// and checks the screenshot holds the charts: backup bars in the success
// colour, and below them the drill chart's bars in the colour only it
// uses, as wide as its bars are spread. DR_SCREENSHOT=path keeps the PNG
// (how docs/status-page.png is made).
func TestStatusPageInChromium(t *testing.T) {
	headless.Skip(t)
	srv := httptest.NewServer(Handler(drillSource(), "", "v1.2.3"))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "status.png")
	if keep := os.Getenv("DR_SCREENSHOT"); keep != "" {
		out = keep
	}
	img, err := headless.Screenshot(context.Background(), srv.URL+"/", out, 1200, 900)
	if err != nil {
		t.Fatal(err)
	}
	assertCharts(t, img)
}

// assertCharts checks a screenshot of the status page: the backup charts'
// success bars, and the drill chart below them with a drill's bar.
func assertCharts(t *testing.T, img image.Image) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 900 {
		t.Fatalf("screenshot is %v, want 1200x900", b)
	}
	green, _ := headless.Hex(colorSuccess)
	blue, _ := headless.Hex(colorDrill)
	// The tallest backup bar and the passing drill's bar are their
	// charts' full 120 px; text in the same colours is far shorter.
	greenBar, blueBar := headless.Tallest(img, green), headless.Tallest(img, blue)
	nBlue, blueBox := headless.Count(img, blue)
	t.Logf("tallest success bar %v; tallest drill bar %v; drill pixels %d in %v", greenBar, blueBar, nBlue, blueBox)
	if greenBar.Dy() < 100 {
		t.Errorf("the backup charts' bars are missing: the tallest run of %s is %v", colorSuccess, greenBar)
	}
	// A bar is about 6 px wide: the drill colour fills a column, not a line.
	if blueBar.Dy() < 100 || nBlue < 4*100 {
		t.Errorf("the drill chart's RTO bar is missing: %d pixels of %s, tallest run %v", nBlue, colorDrill, blueBar)
	}
	if blueBar.Min.Y <= greenBar.Max.Y {
		t.Errorf("the drill chart (%v) should sit below the backup charts (%v)", blueBar, greenBar)
	}
}
