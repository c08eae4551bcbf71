package ingest_test

import (
	"testing"
)

// checkPublished compares what stream name packaged with the packets of
// the published stream (refVideo/refAudio, read by ffprobe).
func (h *harness) checkPublished(name string, refVideo, refAudio []probePacket, tol float64) {
	h.t.Helper()
	vs, _ := h.packaged(name, "v0")
	as, _ := h.packaged(name, "a0")
	st := h.srv.Stream(name)
	rs := st.P.Renditions()
	nv := comparePackets(h.t, name+" video", vs, rs[0].Track.Timescale, refVideo, tol)
	na := comparePackets(h.t, name+" audio", as, rs[1].Track.Timescale, refAudio, tol)
	if nv < len(refVideo)*9/10 || na < len(refAudio)*8/10 {
		h.t.Errorf("%s: packaged %d of %d video and %d of %d audio packets", name, nv, len(refVideo), na, len(refAudio))
	}
	h.t.Logf("%s: %d video and %d audio packets equal the published ones; stats %+v", name, nv, na, st.Stats())
}

func TestRTMP(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t)
	cmd := h.publish("flv", "rtmp://"+h.rtmp+"/live/cam", 4)
	h.logServed("cam")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	h.waitGone("cam")
	h.checkPublished("cam", ffprobePackets(t, videoFile, "v"), ffprobePackets(t, audioFile, "a"), 0.0015)
}

func TestSRT(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t)
	// linger=3: in live mode libsrt closes at once, and what the
	// receiver still held in its latency window (the end of the stream)
	// was lost; on a loaded machine that was a fifth of the packets once.
	// With linger the sender waits until everything is acknowledged: all
	// 200 video and 376 audio packets arrive.
	cmd := h.publish("mpegts", "srt://"+h.srt+"?streamid=publish:cam&pkt_size=1316&linger=3", 4)
	h.logServed("cam")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	h.waitGone("cam")
	// The packager writes the published access units back without the
	// Annex B start codes, AUDs and in-band parameter sets ffmpeg's TS
	// muxer added, and AAC without ADTS headers: the file's packets.
	h.checkPublished("cam", ffprobePackets(t, videoFile, "v"), ffprobePackets(t, audioFile, "a"), 0.0002)
}

func TestUDP(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t)
	cmd := h.publish("mpegts", "udp://"+h.udp+"?pkt_size=1316", 4)
	h.logServed(h.udpName)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	h.waitGone(h.udpName)
	h.checkPublished(h.udpName, ffprobePackets(t, videoFile, "v"), ffprobePackets(t, audioFile, "a"), 0.0002)
}
