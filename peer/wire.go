package peer

import (
	"bytes"
	"errors"
	"fmt"
)

// The peer protocol of p2p-media-loader 2.x, as read from
// p2p-media-loader-core 2.3.1 (src/p2p/commands, src/p2p/peer.ts,
// src/p2p/peer-protocol.ts). Everything travels as binary messages on one
// WebRTC data channel (the one simple-peer opens, ordered, any label).
//
// A message is either a command or a chunk of segment data. A command is
// framed by four ASCII bytes at each end; one that does not fit in one
// message (webRtcMaxMessageSize, 64 KiB − 1) is split into chunks of equal
// size whose frames say where they are:
//
//	one message:   "cstr" | body                | "cend"
//	split:         "cstr" | body[0:n]           | "dend"
//	               "dstr" | body[n:2n]          | "dend"   (zero or more)
//	               "dstr" | body[k n:]          | "cend"
//
// Any message that starts with "cstr"/"dstr" and ends with "cend"/"dend"
// is taken for a command; everything else is segment data (the format's
// own ambiguity, kept for compatibility).
//
// A body is the command type, then named fields: one ASCII byte for the
// name and a typed item. The high nibble of an item's first byte is its
// type:
//
//	command body:  | type u8 | name u8 | item | name u8 | item | ...
//
//	int:           | 0x0 : n (4 bits) | n bytes big-endian magnitude, |
//	                                  | top bit of the first = sign   |
//	int array:     | 0x10 | groups u8 | per group: int(high | count) | count low bytes |
//	               (numbers that share all but their low byte form a group: the int
//	                carries the shared high bits and, in its low byte, the count)
//	string:        | 0x2 : len>>8 (4 bits) | len & 0xff | len bytes UTF-8 |
//
// Commands (type: fields):
//
//	0 SegmentsAnnouncement         l: loaded ids (array), p: ids loading over HTTP (array)
//	1 SegmentRequest               i: segment id, r: request id, b: byte offset (only if > 0)
//	2 SegmentData                  i, s: bytes that follow, r
//	3 SegmentDataSendingCompleted  i, r
//	4 SegmentAbsent                i, r
//	5 CancelSegmentRequest         i, r
//
// A download: the requester sends SegmentRequest; the holder answers
// SegmentAbsent, or SegmentData then the bytes as raw messages of at most
// webRtcMaxMessageSize then SegmentDataSendingCompleted. A segment id is
// the HLS media sequence number in live streams and the segment's index
// in the playlist for VOD (p2p-media-loader-hlsjs's externalId). A new
// request stops the upload in progress on that connection: one upload per
// connection at a time.

// Command types.
const (
	CmdAnnouncement Command = iota
	CmdRequest
	CmdData
	CmdCompleted
	CmdAbsent
	CmdCancel
)

// Command is a peer command type.
type Command uint8

func (c Command) String() string {
	switch c {
	case CmdAnnouncement:
		return "SegmentsAnnouncement"
	case CmdRequest:
		return "SegmentRequest"
	case CmdData:
		return "SegmentData"
	case CmdCompleted:
		return "SegmentDataSendingCompleted"
	case CmdAbsent:
		return "SegmentAbsent"
	case CmdCancel:
		return "CancelSegmentRequest"
	}
	return fmt.Sprintf("Command(%d)", uint8(c))
}

// MaxMessageSize is p2p-media-loader's default webRtcMaxMessageSize: the
// largest data channel message it sends, and the size of data chunks.
const MaxMessageSize = 64*1024 - 1

// ErrProtocol is wrapped by every error of the wire format.
var ErrProtocol = errors.New("peer: protocol error")

// Message is one decoded command.
type Message struct {
	Cmd Command
	// Segment (i), Request (r), Size (s) and From (b).
	Segment, Request, Size, From int64
	// Loaded (l) and Loading (p) of an announcement.
	Loaded, Loading []int64
}

var (
	frameStart    = []byte("cstr")
	frameEnd      = []byte("cend")
	frameDivStart = []byte("dstr")
	frameDivEnd   = []byte("dend")
)

const frameLen = 4

// IsCommand reports whether a data channel message is a command chunk
// rather than segment data (the rule of isCommandChunk).
func IsCommand(b []byte) bool {
	if len(b) < 2*frameLen {
		return false
	}
	head, tail := b[:frameLen], b[len(b)-frameLen:]
	return (bytes.Equal(head, frameStart) || bytes.Equal(head, frameDivStart)) &&
		(bytes.Equal(tail, frameEnd) || bytes.Equal(tail, frameDivEnd))
}

// AppendInt appends an int item.
func appendInt(b []byte, v int64) []byte {
	neg := v < 0
	mag := uint64(v)
	if neg {
		mag = uint64(-v)
	}
	// Bits of the magnitude plus a sign bit, as bigint.toString(2).length
	// (+1 for non-negative numbers; the "-" counts for negative ones).
	bits := 1
	for m := mag; m > 1; m >>= 1 {
		bits++
	}
	n := (bits + 1 + 7) / 8
	b = append(b, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(mag>>(8*uint(i))))
	}
	if neg {
		b[len(b)-n] |= 0x80
	}
	return b
}

func appendArray(b []byte, nums []int64) []byte {
	type group struct {
		high int64
		low  []byte
	}
	var groups []*group
	index := map[int64]*group{}
	for _, v := range nums {
		h := v &^ 0xff
		g := index[h]
		// A group's count is one byte: a 256th number starts another
		// group with the same high part (p2p-media-loader's writer would
		// wrap the count to 0; its reader handles repeated groups).
		if g == nil || len(g.low) == 255 {
			g = &group{high: h}
			index[h] = g
			groups = append(groups, g)
		}
		g.low = append(g.low, byte(v))
	}
	if len(groups) > 255 {
		groups = groups[len(groups)-255:] // the newest ids matter most
	}
	b = append(b, 0x10, byte(len(groups)))
	for _, g := range groups {
		b = appendInt(b, g.high|int64(len(g.low)))
		b = append(b, g.low...)
	}
	return b
}

// Encode returns the data channel messages of one command, each at most
// maxMessage bytes (MaxMessageSize when 0).
func (m *Message) Encode(maxMessage int) [][]byte {
	if maxMessage <= 2*frameLen {
		maxMessage = MaxMessageSize
	}
	body := []byte{byte(m.Cmd)}
	switch m.Cmd {
	case CmdAnnouncement:
		if len(m.Loaded) > 0 {
			body = appendArray(append(body, 'l'), m.Loaded)
		}
		if len(m.Loading) > 0 {
			body = appendArray(append(body, 'p'), m.Loading)
		}
	case CmdRequest:
		body = appendInt(append(body, 'i'), m.Segment)
		body = appendInt(append(body, 'r'), m.Request)
		if m.From != 0 {
			body = appendInt(append(body, 'b'), m.From)
		}
	case CmdData:
		body = appendInt(append(body, 'i'), m.Segment)
		body = appendInt(append(body, 's'), m.Size)
		body = appendInt(append(body, 'r'), m.Request)
	default:
		body = appendInt(append(body, 'i'), m.Segment)
		body = appendInt(append(body, 'r'), m.Request)
	}
	frame := func(start, end, p []byte) []byte {
		out := make([]byte, 0, len(p)+2*frameLen)
		return append(append(append(out, start...), p...), end...)
	}
	if len(body)+2*frameLen <= maxMessage {
		return [][]byte{frame(frameStart, frameEnd, body)}
	}
	// Equal chunks, as splitBufferToEqualChunks cuts them.
	n := (len(body) + maxMessage - 1) / maxMessage
	if (len(body)+n-1)/n+2*frameLen > maxMessage {
		n++
	}
	size := (len(body) + n - 1) / n
	var out [][]byte
	for i := 0; i < n; i++ {
		lo, hi := min(i*size, len(body)), min((i+1)*size, len(body))
		start, end := frameDivStart, frameDivEnd
		if i == 0 {
			start = frameStart
		}
		if i == n-1 {
			end = frameEnd
		}
		out = append(out, frame(start, end, body[lo:hi]))
	}
	return out
}

// Joiner reassembles commands split over several messages.
type Joiner struct {
	buf     []byte
	joining bool
}

// MaxCommandSize bounds a reassembled command: an announcement of 255
// groups of 255 ids is below 70 KB.
const MaxCommandSize = 256 << 10

// Add takes one command chunk (IsCommand is true) and returns the whole
// command body when this chunk completes one. A chunk out of order drops
// what was joined so far, as p2p-media-loader does, and is an error.
func (j *Joiner) Add(chunk []byte) ([]byte, error) {
	first := bytes.Equal(chunk[:frameLen], frameStart)
	if !j.joining && !first {
		return nil, fmt.Errorf("%w: command chunk without a first chunk", ErrProtocol)
	}
	if j.joining && first {
		j.buf, j.joining = j.buf[:0], false
		return nil, fmt.Errorf("%w: new command before the last one was complete", ErrProtocol)
	}
	if len(j.buf)+len(chunk) > MaxCommandSize {
		j.buf, j.joining = j.buf[:0], false
		return nil, fmt.Errorf("%w: command longer than %d bytes", ErrProtocol, MaxCommandSize)
	}
	j.joining = true
	j.buf = append(j.buf, chunk[frameLen:len(chunk)-frameLen]...)
	if !bytes.Equal(chunk[len(chunk)-frameLen:], frameEnd) {
		return nil, nil
	}
	body := j.buf
	j.buf, j.joining = nil, false
	return body, nil
}

// MaxArray bounds the ids of one announcement field when decoding.
const MaxArray = 255 * 255

// Decode parses a command body (as Joiner returns it). Errors give the
// byte offset; hostile input never panics.
func Decode(body []byte) (*Message, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrProtocol)
	}
	m := &Message{Cmd: Command(body[0])}
	if m.Cmd > CmdCancel {
		return nil, fmt.Errorf("%w: unknown command type %d at byte 0", ErrProtocol, body[0])
	}
	off := 1
	bad := func(what string) error {
		return fmt.Errorf("%w: %s at byte %d of %v", ErrProtocol, what, off, m.Cmd)
	}
	readInt := func() (int64, error) {
		if off >= len(body) {
			return 0, bad("truncated int")
		}
		n := int(body[off] & 0x0f)
		if body[off]>>4 != 0 || n == 0 || n > 8 || off+1+n > len(body) {
			return 0, bad("invalid int")
		}
		var mag uint64
		for i, c := range body[off+1 : off+1+n] {
			if i == 0 {
				c &= 0x7f
			}
			mag = mag<<8 | uint64(c)
		}
		v := int64(mag & (1<<63 - 1))
		if body[off+1]&0x80 != 0 {
			v = -v
		}
		off += 1 + n
		return v, nil
	}
	for off < len(body) {
		name := body[off]
		off++
		if off >= len(body) {
			return nil, bad("field without a value")
		}
		switch body[off] >> 4 {
		case 0:
			v, err := readInt()
			if err != nil {
				return nil, err
			}
			switch name {
			case 'i':
				m.Segment = v
			case 'r':
				m.Request = v
			case 's':
				m.Size = v
			case 'b':
				m.From = v
			}
		case 1:
			if off+1 >= len(body) {
				return nil, bad("truncated int array")
			}
			groups := int(body[off+1])
			off += 2
			var nums []int64
			for g := 0; g < groups; g++ {
				hc, err := readInt()
				if err != nil {
					return nil, err
				}
				count := int(hc & 0xff)
				if off+count > len(body) || len(nums)+count > MaxArray {
					return nil, bad("truncated int array")
				}
				for _, c := range body[off : off+count] {
					nums = append(nums, hc&^0xff|int64(c))
				}
				off += count
			}
			switch name {
			case 'l':
				m.Loaded = nums
			case 'p':
				m.Loading = nums
			}
		case 2:
			if off+1 >= len(body) {
				return nil, bad("truncated string")
			}
			n := int(body[off]&0x0f)<<8 | int(body[off+1])
			if off+2+n > len(body) {
				return nil, bad("truncated string")
			}
			off += 2 + n // no command of the protocol has a string field
		default:
			return nil, bad("unknown item type")
		}
	}
	return m, nil
}
