package ingest

import (
	"time"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// Stats are a stream's ingest counters over all its publishes.
type Stats struct {
	Publishes int64 // sessions opened
	Dropped   int64 // frames not packaged: before the first key frame, behind the timeline after a jump
	// Strays counts UDP datagrams from another address dropped while
	// the current source was alive (see udpTakeover).
	Strays int64
	// TS sums the MPEG-TS counters of the SRT and UDP sessions: lost
	// packets show as CCErrors, garbage as Resyncs and SkippedBytes.
	TS ts.StreamStats
}

// Stats returns the stream's counters.
func (st *Stream) Stats() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.stats
	for _, ss := range st.live {
		s.Dropped += ss.dropped
		addTS(&s.TS, ss.tsSnap)
	}
	return s
}

// stray counts a UDP datagram dropped from another address.
func (s *session) stray() {
	s.st.mu.Lock()
	s.st.stats.Strays++
	s.st.mu.Unlock()
}

func addTS(a *ts.StreamStats, b ts.StreamStats) {
	a.Packets += b.Packets
	a.Resyncs += b.Resyncs
	a.SkippedBytes += b.SkippedBytes
	a.CCErrors += b.CCErrors
	a.ErrorPackets += b.ErrorPackets
	a.PESErrors += b.PESErrors
	a.FrameErrors += b.FrameErrors
	a.Untimed += b.Untimed
	a.Bytes += b.Bytes
	a.Samples += b.Samples
	a.StreamErrors += b.StreamErrors
}

// tsInput feeds an MPEG-TS byte stream (SRT payloads, UDP datagrams) to a
// session through the streaming TS reader: the tracks are declared when
// the probe is done, and each access unit is pushed as it completes,
// stamped with the arrival time of the bytes that completed it.
type tsInput struct {
	ss  *session
	at  time.Time
	idx map[int]int // track ID → index
}

func newTSInput(ss *session) *tsInput {
	in := &tsInput{ss: ss}
	ss.tsr = ts.NewStream(in.sample)
	return in
}

func (in *tsInput) sample(t *media.Track, s media.Sample) error {
	if in.idx == nil {
		in.idx = map[int]int{}
		var tracks []*media.Track
		for i, tt := range in.ss.tsr.Tracks() {
			in.idx[tt.ID] = i
			tracks = append(tracks, tt)
		}
		if err := in.ss.setTracks(tracks); err != nil {
			return err
		}
	}
	i, ok := in.idx[t.ID]
	if !ok {
		return nil
	}
	return in.ss.push(i, s, s.Data, in.at)
}

// close delivers what the stream still buffers (its last access units)
// and takes the final counters.
func (in *tsInput) close() {
	in.ss.tsr.Close()
	st := in.ss.st
	st.mu.Lock()
	in.ss.tsSnap = in.ss.tsr.Stats()
	st.mu.Unlock()
}

// write feeds bytes that arrived at at.
func (in *tsInput) write(b []byte, at time.Time) error {
	in.at = at
	_, err := in.ss.tsr.Write(b)
	st := in.ss.st
	st.mu.Lock()
	in.ss.tsSnap = in.ss.tsr.Stats()
	st.mu.Unlock()
	return err
}
