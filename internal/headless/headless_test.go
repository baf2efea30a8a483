package headless

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

func TestCountAndTallest(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 50, 50))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	blue, err := Hex("#1565c0")
	if err != nil || blue != (color.RGBA{R: 0x15, G: 0x65, B: 0xc0, A: 0xff}) {
		t.Fatalf("Hex = %v, %v", blue, err)
	}
	// A 3×20 bar and a 10×2 underline, like text: the bar is the tallest.
	draw.Draw(img, image.Rect(5, 10, 8, 30), image.NewUniform(blue), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(20, 40, 30, 42), image.NewUniform(blue), image.Point{}, draw.Src)
	if n, box := Count(img, blue); n != 3*20+10*2 || box != image.Rect(5, 10, 30, 42) {
		t.Errorf("Count = %d in %v", n, box)
	}
	if bar := Tallest(img, blue); bar != image.Rect(5, 10, 6, 30) {
		t.Errorf("Tallest = %v, want the bar's first column", bar)
	}
	if bar := Tallest(img, color.RGBA{R: 1, A: 255}); !bar.Empty() {
		t.Errorf("Tallest of an absent colour = %v", bar)
	}
	for _, bad := range []string{"1565c0x", "#15", "#zzzzzz"} {
		if _, err := Hex(bad); err == nil {
			t.Errorf("Hex(%q) accepted", bad)
		}
	}
}
