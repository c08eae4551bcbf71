package ts

import (
	"errors"
	"fmt"
	"io"

	"github.com/streamkit-go/streamkit/media"
)

// PacketSize is the size of an MPEG-TS packet without any M2TS timecode
// prefix or Reed-Solomon suffix.
const PacketSize = 188

const syncByte = 0x47

// packetHeader is the fixed part of a TS packet plus what the reader needs
// from the adaptation field. It is parsed by hand rather than with astits:
// astits allocates a Packet per packet and does not report byte offsets,
// and this is the hot path (see BenchmarkDemux).
type packetHeader struct {
	tei, pusi  bool
	pid        uint16
	afc        uint8
	cc         uint8
	disc, rai  bool
	hasPCR     bool
	pcr        int64 // 27 MHz
	payloadOff int   // offset of the payload in the 188-byte packet, 188 when none
}

// errBadAdaptation is returned by parseHeader for an adaptation field
// that does not fit in the packet.
var errBadAdaptation = errors.New("adaptation field overflows packet")

// parseHeader parses the 4-byte header and the adaptation field of the
// 188-byte packet p (p[0] is the sync byte).
func parseHeader(p []byte, h *packetHeader) error {
	h.tei = p[1]&0x80 != 0
	h.pusi = p[1]&0x40 != 0
	h.pid = uint16(p[1]&0x1f)<<8 | uint16(p[2])
	h.afc = p[3] >> 4 & 3
	h.cc = p[3] & 0x0f
	h.disc, h.rai, h.hasPCR = false, false, false
	h.payloadOff = 4
	if h.afc&2 != 0 {
		afl := int(p[4])
		if 5+afl > PacketSize {
			h.payloadOff = PacketSize
			return errBadAdaptation
		}
		if afl > 0 {
			flags := p[5]
			h.disc = flags&0x80 != 0
			h.rai = flags&0x40 != 0
			if flags&0x10 != 0 && afl >= 7 {
				base := int64(p[6])<<25 | int64(p[7])<<17 | int64(p[8])<<9 | int64(p[9])<<1 | int64(p[10])>>7
				ext := int64(p[10]&1)<<8 | int64(p[11])
				h.hasPCR = true
				h.pcr = base*300 + ext
			}
		}
		h.payloadOff = 5 + afl
	}
	if h.afc&1 == 0 {
		h.payloadOff = PacketSize
	}
	return nil
}

// layout describes how packets sit in the file: stride between packet
// starts and where the 0x47 sync byte is inside a stride.
type layout struct {
	stride int // 188, 192 or 204
	lead   int // bytes before the sync byte: 4 for 192-byte M2TS packets
}

var layouts = []layout{{188, 0}, {192, 4}, {204, 0}}

// maxLeadingJunk is how far into the file the first packet is searched
// for (files cut from a capture may start mid-packet or with a header).
const maxLeadingJunk = 64 << 10

// syncRun is how many consecutive sync bytes make a packet grid.
const syncRun = 3

// detectLayout finds the packet size and the first packet from the first
// bytes of the file: the earliest offset where syncRun packets of one of
// the sizes line up (fewer when head is the whole file and ends first;
// sizes tried in the order 188, 192, 204).
func detectLayout(head []byte, whole bool) (layout, int, bool) {
	for start := 0; start < len(head) && start <= maxLeadingJunk; start++ {
		for _, l := range layouts {
			if start+l.lead >= len(head) || head[start+l.lead] != syncByte {
				continue
			}
			n := 1
			for k := 1; k < syncRun; k++ {
				i := start + l.lead + k*l.stride
				if i >= len(head) {
					break
				}
				if head[i] != syncByte {
					n = -1
					break
				}
				n++
			}
			if n >= syncRun || (whole && n > 0 && start+l.lead+n*l.stride >= len(head)) {
				return l, start, true
			}
		}
	}
	return layout{}, 0, false
}

// source reads packets from an io.ReaderAt in large chunks and keeps a
// window of them in memory. Positions are absolute byte offsets.
type source struct {
	r    io.ReaderAt
	size int64 // end of the readable range
	buf  []byte
	base int64 // file offset of buf[0]
	n    int   // valid bytes in buf
	l    layout
}

const chunkPackets = 512

// newSource reads [from, end) of r; buf is reused when large enough.
func newSource(r io.ReaderAt, from, end int64, l layout, buf []byte) *source {
	n := int64(chunkPackets * l.stride)
	if rem := end - from + int64(3*l.stride); rem < n {
		n = rem
	}
	if n < int64(3*l.stride) {
		n = int64(3 * l.stride)
	}
	if int64(cap(buf)) >= n {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	return &source{r: r, size: end, buf: buf, l: l}
}

// window returns the bytes at pos .. pos+n, reading as needed; fewer
// when the range reaches the end. It returns an error only on I/O errors.
func (s *source) window(pos int64, n int) ([]byte, error) {
	end := s.base + int64(s.n)
	if pos >= s.base && (pos+int64(n) <= end || (end >= s.size && pos <= end)) {
		i := int(pos - s.base)
		j := i + n
		if j > s.n {
			j = s.n
		}
		return s.buf[i:j], nil
	}
	if pos >= s.size {
		return nil, nil
	}
	if n > len(s.buf) {
		s.buf = make([]byte, n)
	}
	want := int64(len(s.buf))
	if rem := s.size - pos; rem < want {
		want = rem
	}
	m, err := s.r.ReadAt(s.buf[:want], pos)
	if err != nil && err != io.EOF {
		if m < int(want) {
			return nil, &media.PosError{Format: "mpegts", Offset: pos + int64(m), What: "reading packets", Err: err}
		}
	}
	s.base, s.n = pos, m
	if n > m {
		n = m
	}
	return s.buf[:n], nil
}

// packetAt returns the 188-byte packet whose stride starts at pos. It
// returns nil with short set when the input ends before a whole packet,
// and nil alone when the sync byte (or the next packet's) is missing.
func (s *source) packetAt(pos int64) (pkt []byte, short bool, err error) {
	w, err := s.window(pos, s.l.stride+s.l.lead+1)
	if err != nil {
		return nil, false, err
	}
	if len(w) < s.l.lead+PacketSize {
		return nil, true, nil
	}
	p := w[s.l.lead : s.l.lead+PacketSize]
	if p[0] != syncByte {
		return nil, false, nil
	}
	// A sync byte alone may be garbage that happens to be 0x47: the next
	// packet must start with one too (unless this is the last packet).
	if n := s.l.stride + s.l.lead; len(w) > n && w[n] != syncByte {
		return nil, false, nil
	}
	return p, false, nil
}

// resync returns the next position after pos where packets line up
// again: a sync byte followed by sync bytes one and two strides later (or
// by the end of the input). It returns -1 when there is none.
func (s *source) resync(pos int64) (int64, error) {
	st, lead := s.l.stride, s.l.lead
	n := max(len(s.buf), 8*st)
	for p := pos + 1; p+int64(lead) < s.size; {
		w, err := s.window(p, n)
		if err != nil {
			return -1, err
		}
		atEnd := p+int64(len(w)) >= s.size
		if i := FindSync(w, st, lead, atEnd); i >= 0 {
			return p + int64(i), nil
		}
		if atEnd || len(w) <= lead+2*st {
			return -1, nil
		}
		// A candidate in the last two strides needs bytes past w: look
		// at it again from the next window.
		p += int64(len(w) - lead - 2*st)
	}
	return -1, nil
}

// FindSync returns the first index i in b where a packet grid starts:
// b[i+lead] is the 0x47 sync byte and so are the bytes one and two
// strides further (stride 188, 192 or 204; lead 4 for 192-byte M2TS
// packets, else 0). A grid that runs off the end of b counts only when
// atEnd says b holds the end of the input; otherwise such a candidate
// and everything after it need more bytes, and FindSync returns -1. It
// is the one resynchronisation rule of this package, for files (Reader)
// and for streams fed chunk by chunk.
func FindSync(b []byte, stride, lead int, atEnd bool) int {
	for i := 0; i+lead < len(b); i++ {
		if b[i+lead] != syncByte {
			continue
		}
		ok := true
		for k := 1; k <= 2 && ok; k++ {
			j := i + lead + k*stride
			if j >= len(b) {
				if !atEnd {
					return -1
				}
				break
			}
			ok = b[j] == syncByte
		}
		if ok {
			return i
		}
	}
	return -1
}

// pidString formats a PID the way error messages show it.
func pidString(pid uint16) string { return fmt.Sprintf("0x%X", pid) }
