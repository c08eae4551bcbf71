package mp4

// mergeHeap yields the cursor whose next sample comes first in the file,
// so that Samples is O(log tracks) per sample even for a hostile moov
// with thousands of tracks. Ties go to the lower index (track order).
type mergeHeap struct {
	idx []int
	off func(i int) int64
}

func (h *mergeHeap) less(a, b int) bool {
	oa, ob := h.off(h.idx[a]), h.off(h.idx[b])
	return oa < ob || oa == ob && h.idx[a] < h.idx[b]
}

// reset fills the heap with the indices in [0,n) for which active holds.
func (h *mergeHeap) reset(n int, active func(i int) bool) {
	h.idx = h.idx[:0]
	for i := 0; i < n; i++ {
		if active(i) {
			h.idx = append(h.idx, i)
		}
	}
	for i := len(h.idx)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// top returns the index of the first cursor, or -1 when all are done.
func (h *mergeHeap) top() int {
	if len(h.idx) == 0 {
		return -1
	}
	return h.idx[0]
}

// fix restores the order after the top cursor advanced; done removes it.
func (h *mergeHeap) fix(done bool) {
	if done {
		n := len(h.idx) - 1
		h.idx[0] = h.idx[n]
		h.idx = h.idx[:n]
	}
	h.down(0)
}

func (h *mergeHeap) down(i int) {
	n := len(h.idx)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h.idx[i], h.idx[j] = h.idx[j], h.idx[i]
		i = j
	}
}
