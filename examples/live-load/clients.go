package main

// The client process: 10,000 blocking playlist clients and 1,000 part
// pullers, as lean as a load generator can be, so that the run measures
// the origin and not the clients.
//
// Why not net/http's client: its Transport is built for correctness
// across every server on the Internet — a goroutine or two per
// connection, a request and a response object, header maps, a body
// wrapper and connection-pool bookkeeping for each request, and over
// HTTP/2 a channel hop between the caller and the connection's read loop
// per stream. Measured in the first version of this example, those costs
// were of the same order as the origin's own and ran on the same two
// cores. wrk and h2load, the tools used to measure origins, speak the
// protocol directly over sockets; so does this file:
//
//   - HTTP/1.1: one keep-alive connection per client (a held request
//     occupies its connection), one write per request, and a small reader
//     for the status line, Content-Length (or chunked) and the body.
//   - HTTP/2 (h2c, prior knowledge): up to 200 streams per connection and
//     one goroutine per connection that reads frames (x/net's Framer and
//     HPACK), records each finished response and sends that client's next
//     request from the same goroutine; writes are flushed when no frame is
//     left to read, so one write carries many requests.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Record kinds, as sent to the origin process.
const (
	kindPlaylist = iota // a blocking playlist answered 200
	kindPart            // a part answered 200
	kind503             // a request answered 503
)

// clientSummary is the client process's report, one JSON line on stderr.
type clientSummary struct {
	Start, End int64         // the load, Unix ns
	CPU        time.Duration // user + system CPU during the load
	OriginCPU  time.Duration // the origin process's, likewise
	Requests   int64         // every request sent during the load
	Errors     int64
	RSS        int64
	Goroutines int
}

type recorder struct {
	mu   sync.Mutex
	w    *bufio.Writer
	reqs atomic.Int64
	errs atomic.Int64
	stop atomic.Bool
}

// add records one answer, 16 bytes on stdout: kind, rendition, part
// (uint16), msn (uint32) and when its last byte arrived (Unix ns: both
// processes read the same system clock).
func (r *recorder) add(kind, rend int, msn, part int64) {
	if r.stop.Load() {
		return
	}
	var b [16]byte
	b[0], b[1] = uint8(kind), uint8(rend)
	binary.LittleEndian.PutUint16(b[2:], uint16(part))
	binary.LittleEndian.PutUint32(b[4:], uint32(msn))
	binary.LittleEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
	r.mu.Lock()
	r.w.Write(b[:])
	r.mu.Unlock()
}

func (r *recorder) fail() {
	if !r.stop.Load() {
		r.errs.Add(1)
	}
}

// loadClient is one simulated player: a blocking playlist reloader or a
// part puller on one rendition. It says what to ask next and takes the
// answer; the transports move the bytes.
type loadClient struct {
	parts     bool // a part puller
	rend      int
	msn, part int64 // the part awaited
	path      []byte
}

// first is the request that starts a client: the playlist as it is now.
func (c *loadClient) first(prefix string) []byte {
	c.path = append(append(append(c.path[:0], prefix...), renditions[c.rend]...), "/media.m3u8"...)
	return c.path
}

// started takes the first playlist: the next part is the awaited one.
func (c *loadClient) started(body []byte) bool {
	msn, part, ok := lastPart(body)
	c.msn, c.part = msn, part+1
	return ok
}

// next is the request for the awaited part: the blocking playlist that
// will list it, or the part itself (held until it is complete, as a
// preload hint is).
func (c *loadClient) next(prefix string) []byte {
	p := append(append(c.path[:0], prefix...), renditions[c.rend]...)
	if c.parts {
		p = append(p, "/part_"...)
		p = strconv.AppendInt(p, c.msn, 10)
		p = append(p, '_')
		p = strconv.AppendInt(p, c.part, 10)
		p = append(p, ".m4s"...)
	} else {
		p = append(p, "/media.m3u8?_HLS_msn="...)
		p = strconv.AppendInt(p, c.msn, 10)
		p = append(p, "&_HLS_part="...)
		p = strconv.AppendInt(p, c.part, 10)
		// A delta update, as hls.js 1.7 asks once it holds a recent
		// playlist (getSkipValue: CAN-SKIP-UNTIL advertised, playlist
		// younger than half of it).
		p = append(p, "&_HLS_skip=YES"...)
	}
	c.path = p
	return p
}

// answered takes the answer to next.
func (c *loadClient) answered(rec *recorder, status int, body []byte) {
	switch {
	case status == 200 && c.parts:
		rec.add(kindPart, c.rend, c.msn, c.part)
		c.part++
	case status == 200:
		rec.add(kindPlaylist, c.rend, c.msn, c.part)
		if msn, part, ok := lastPart(body); ok {
			c.msn, c.part = msn, part+1
		} else {
			rec.fail()
		}
	case status == 404 && c.parts:
		c.msn, c.part = c.msn+1, 0 // the segment ended: part 0 of the next
	case status == 503:
		rec.add(kind503, c.rend, c.msn, c.part)
	default:
		rec.fail()
	}
}

// lastPart finds the last EXT-X-PART of a playlist (its URI is
// part_MSN_INDEX.m4s); the preload hint after it names the next.
func lastPart(b []byte) (msn, part int64, ok bool) {
	i := bytes.LastIndex(b, []byte("#EXT-X-PART:"))
	if i < 0 {
		return 0, 0, false
	}
	j := bytes.Index(b[i:], []byte(`URI="part_`))
	if j < 0 {
		return 0, 0, false
	}
	s := b[i+j+len(`URI="part_`):]
	msn, s = atoi(s)
	if len(s) == 0 || s[0] != '_' {
		return 0, 0, false
	}
	part, _ = atoi(s[1:])
	return msn, part, true
}

func atoi(b []byte) (int64, []byte) {
	var n int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, b[i:]
}

// runClients is the client process: LIVE_LOAD_ROLE=clients, the address,
// prefix and protocol in the environment. It prints "ready" when every
// client has its first playlist, "start" when the load begins, "end" when
// it ends, then the summary, all on stderr; records go to stdout.
func runClients() error {
	addr, prefix, proto := os.Getenv("LIVE_LOAD_ADDR"), os.Getenv("LIVE_LOAD_PREFIX"), os.Getenv("LIVE_LOAD_PROTO")
	if path := os.Getenv("LIVE_LOAD_CLIENT_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	rec := &recorder{w: out}
	var clients []*loadClient
	for i := 0; i < playlistClients; i++ {
		clients = append(clients, &loadClient{rend: i % len(renditions)})
	}
	for i := 0; i < partClients; i++ {
		clients = append(clients, &loadClient{parts: true, rend: i % len(renditions)})
	}
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	var conns connSet
	switch proto {
	case "h1":
		for i, c := range clients {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				runH1(addr, prefix, c, rec, &conns, &ready, start, i)
			}()
		}
	case "h2c":
		const streams = 200 // below the 250 streams Go's HTTP/2 server allows per connection
		// Clients are dealt to the connections in turn, so that each
		// carries playlists and parts, as an edge's connections do.
		n := (len(clients) + streams - 1) / streams
		groups := make([][]*loadClient, n)
		for i, c := range clients {
			groups[i%n] = append(groups[i%n], c)
		}
		for _, group := range groups {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				runH2(addr, prefix, group, rec, &conns, &ready, start)
			}()
		}
	default:
		return fmt.Errorf("LIVE_LOAD_PROTO=%q: want h1 or h2c", proto)
	}
	ready.Wait()
	fmt.Fprintln(os.Stderr, "ready")
	// This process keeps the time and reads both processes' CPU: the
	// origin process, busy with 11,000 connections, may read these lines
	// late.
	sum := clientSummary{Start: time.Now().UnixNano()}
	cpu0, origin0 := cpuTime(), parentCPU()
	fmt.Fprintln(os.Stderr, "start")
	close(start)
	time.Sleep(loadFor * 2 / 3)
	sum.Goroutines, sum.RSS = runtime.NumGoroutine(), snapshot().rss
	fmt.Fprintln(os.Stderr, "during")
	time.Sleep(loadFor - loadFor*2/3)
	rec.stop.Store(true)
	sum.End = time.Now().UnixNano()
	sum.CPU, sum.OriginCPU = cpuTime()-cpu0, parentCPU()-origin0
	fmt.Fprintln(os.Stderr, "end")
	conns.closeAll()
	done.Wait()
	sum.Requests, sum.Errors = rec.reqs.Load(), rec.errs.Load()
	rec.mu.Lock()
	err := out.Flush()
	rec.mu.Unlock()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintf(os.Stderr, "summary %s\n", b)
	return nil
}

// connSet closes every connection when the load ends.
type connSet struct {
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns = append(s.conns, c)
	return true
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
}

// dialSem spreads the connection set-up: 11,000 dials at once overflow
// the listen queue and wait a second for the SYN retry.
var dialSem = make(chan struct{}, 128)

func dial(addr string, conns *connSet) (net.Conn, error) {
	dialSem <- struct{}{}
	defer func() { <-dialSem }()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if !conns.add(c) {
		return nil, net.ErrClosed
	}
	return c, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parentCPU reads the user + system CPU of the origin process (the
// parent) from /proc, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
func parentCPU() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(os.Getppid()) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
	st, _ := strconv.ParseInt(string(f[12]), 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// ---- HTTP/1.1 ----

// h1Conn is a keep-alive HTTP/1.1 connection with a reader for the
// responses the origin sends.
type h1Conn struct {
	c    net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte
	host string
}

func runH1(addr, prefix string, c *loadClient, rec *recorder, conns *connSet, ready *sync.WaitGroup, start <-chan struct{}, i int) {
	var h *h1Conn
	connect := func() bool {
		nc, err := dial(addr, conns)
		if err != nil {
			return false
		}
		h = &h1Conn{c: nc, br: bufio.NewReaderSize(nc, 16<<10), host: addr}
		return true
	}
	isReady := false
	defer func() {
		if !isReady {
			ready.Done()
		}
	}()
	for !isReady {
		if rec.stop.Load() || (h == nil && !connect()) {
			return
		}
		status, body, err := h.get(c.first(prefix))
		if err != nil || status != 200 || !c.started(body) {
			h.c.Close()
			h = nil
			time.Sleep(100 * time.Millisecond)
			continue
		}
		isReady = true
		ready.Done()
	}
	<-start
	for !rec.stop.Load() {
		if h == nil && !connect() {
			return
		}
		rec.reqs.Add(1)
		status, body, err := h.get(c.next(prefix))
		if err != nil {
			rec.fail()
			h.c.Close()
			h = nil
			continue
		}
		c.answered(rec, status, body)
	}
}

var errResponse = errors.New("malformed response")

// get sends one request (one write) and reads its response.
func (h *h1Conn) get(path []byte) (int, []byte, error) {
	h.req = append(h.req[:0], "GET "...)
	h.req = append(h.req, path...)
	h.req = append(h.req, " HTTP/1.1\r\nHost: "...)
	h.req = append(h.req, h.host...)
	h.req = append(h.req, "\r\n\r\n"...)
	if _, err := h.c.Write(h.req); err != nil {
		return 0, nil, err
	}
	line, err := h.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, errResponse
	}
	status, _ := atoi(line[9:12])
	clen, chunked := int64(-1), false
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, errResponse
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			clen, _ = atoi(v)
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		}
	}
	h.body = h.body[:0]
	switch {
	case chunked:
		for {
			line, err := h.br.ReadSlice('\n')
			if err != nil {
				return 0, nil, err
			}
			n, err := strconv.ParseInt(string(bytes.TrimRight(line, "\r\n")), 16, 32)
			if err != nil {
				return 0, nil, errResponse
			}
			if err := h.read(int(n) + 2); err != nil { // the chunk and its CRLF
				return 0, nil, err
			}
			h.body = h.body[:len(h.body)-2]
			if n == 0 {
				break
			}
		}
	case clen >= 0:
		if err := h.read(int(clen)); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errResponse // the origin always frames its bodies
	}
	return int(status), h.body, nil
}

// read appends n bytes of the connection to the body.
func (h *h1Conn) read(n int) error {
	off := len(h.body)
	h.body = append(h.body, make([]byte, n)...)[:off+n]
	_, err := io.ReadFull(h.br, h.body[off:])
	return err
}

// ---- HTTP/2 without TLS ----

type h2Stream struct {
	c      *loadClient
	status int
	body   []byte
	first  bool // the client's first request
}

// runH2 runs clients over one h2c connection, up to 200 streams.
func runH2(addr, prefix string, clients []*loadClient, rec *recorder, conns *connSet, ready *sync.WaitGroup, start <-chan struct{}) {
	isReady := false
	defer func() {
		if !isReady {
			ready.Done()
		}
	}()
	nc, err := dial(addr, conns)
	if err != nil {
		return
	}
	bw := bufio.NewWriterSize(nc, 32<<10)
	br := bufio.NewReaderSize(nc, 64<<10)
	fr := http2.NewFramer(bw, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	const window = 1 << 30
	io.WriteString(bw, http2.ClientPreface)
	fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: window})
	fr.WriteWindowUpdate(0, window)
	streams := map[uint32]*h2Stream{}
	nextID := uint32(1)
	send := func(c *loadClient, path []byte, first bool) {
		hbuf.Reset()
		enc.WriteField(hpack.HeaderField{Name: ":method", Value: "GET"})
		enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "http"})
		enc.WriteField(hpack.HeaderField{Name: ":authority", Value: addr})
		enc.WriteField(hpack.HeaderField{Name: ":path", Value: string(path)})
		id := nextID
		nextID += 2
		streams[id] = &h2Stream{c: c, first: first}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndStream: true, EndHeaders: true})
	}
	for _, c := range clients {
		send(c, c.first(prefix), true)
	}
	waiting := len(clients) // first playlists not yet answered
	var consumed uint32
	for {
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
		if waiting == 0 && !isReady {
			isReady = true
			ready.Done()
			bw.Flush()
			<-start
			for _, c := range clients {
				rec.reqs.Add(1)
				send(c, c.next(prefix), false)
			}
			continue
		}
		f, err := fr.ReadFrame()
		if err != nil {
			if !rec.stop.Load() {
				rec.fail()
			}
			return
		}
		var st *h2Stream
		end := false
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			st = streams[f.StreamID]
			if st != nil {
				st.status, _ = strconv.Atoi(f.PseudoValue("status"))
			}
			end = f.StreamEnded()
		case *http2.DataFrame:
			st = streams[f.StreamID]
			if st != nil && (st.first || !st.c.parts) {
				st.body = append(st.body, f.Data()...)
			}
			end = f.StreamEnded()
			if consumed += f.Length; consumed > window/2 {
				fr.WriteWindowUpdate(0, consumed)
				consumed = 0
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.RSTStreamFrame:
			if st = streams[f.StreamID]; st != nil {
				delete(streams, f.StreamID)
				rec.fail()
				if st.first {
					send(st.c, st.c.first(prefix), true)
				} else {
					rec.reqs.Add(1)
					send(st.c, st.c.next(prefix), false)
				}
			}
			continue
		case *http2.GoAwayFrame:
			return
		}
		if st == nil || !end {
			continue
		}
		delete(streams, f.Header().StreamID)
		if st.first {
			if st.status == 200 && st.c.started(st.body) {
				waiting--
			} else {
				send(st.c, st.c.first(prefix), true)
			}
			continue
		}
		st.c.answered(rec, st.status, st.body)
		if rec.stop.Load() {
			continue
		}
		rec.reqs.Add(1)
		send(st.c, st.c.next(prefix), false)
	}
}
