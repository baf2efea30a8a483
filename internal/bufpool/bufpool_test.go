package bufpool

import "testing"

func TestPoolKeepsBuffersWithinItsBudget(t *testing.T) {
	p := New(3 << 10)
	a := p.Get(1<<10, 1<<10)
	if len(a) != 1<<10 {
		t.Fatalf("len %d", len(a))
	}
	a[0] = 7
	p.Put(a)
	if b := p.Get(512, 0); cap(b) != 1<<10 || &b[:1][0] != &a[0] {
		t.Errorf("a kept buffer large enough was not used again (cap %d)", cap(b))
	}
	if b := p.Get(2<<10, 0); cap(b) != 2<<10 {
		t.Errorf("nothing kept is large enough: want a new buffer of 2 KiB, got cap %d", cap(b))
	}
	for range 4 {
		p.Put(make([]byte, 1<<10))
	}
	if p.kept != 3<<10 || len(p.free) != 3 {
		t.Errorf("kept %d bytes in %d buffers, want the 3 KiB budget in 3", p.kept, len(p.free))
	}
	p.Put(nil)
	if len(p.free) != 3 {
		t.Errorf("a nil buffer was kept")
	}
}
