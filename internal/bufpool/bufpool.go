// Package bufpool keeps byte buffers for reuse, up to a budget of bytes.
//
// Unlike sync.Pool, a garbage collection does not empty it: a capture
// that moves a GiB through 1 MiB buffers collects often, and a buffer
// made afresh after each collection was a tenth of its CPU (zeroing
// new memory). The budget bounds what it keeps while nobody uses it.
package bufpool

import "sync"

// Pool keeps buffers up to Limit bytes of capacity in all.
type Pool struct {
	mu    sync.Mutex
	free  [][]byte
	kept  int
	limit int
}

// New makes a pool that keeps up to limit bytes.
func New(limit int) *Pool { return &Pool{limit: limit} }

// Get returns a buffer of length n: a kept one whose capacity is large
// enough, else a new one of at least minCap.
func (p *Pool) Get(n, minCap int) []byte {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if b := p.free[i]; cap(b) >= n {
			p.free = append(p.free[:i], p.free[i+1:]...)
			p.kept -= cap(b)
			p.mu.Unlock()
			return b[:n]
		}
	}
	p.mu.Unlock()
	return make([]byte, n, max(n, minCap))
}

// Put gives a buffer back, kept if the budget has room for it.
func (p *Pool) Put(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kept+cap(b) > p.limit {
		return
	}
	p.free = append(p.free, b[:0])
	p.kept += cap(b)
}
