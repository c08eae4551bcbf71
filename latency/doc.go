// Package latency measures glass-to-glass latency — capture to display —
// of a live stream on this machine, and splits it into a stage budget.
//
// [Run] runs the experiment for each [Mode]: `streamkit clock` frames
// (package pixclock: the capture time in the pixels, real time) are piped
// into an encoder command (by default ffmpeg with libx264 -tune
// zerolatency), which publishes to an [Ingest] (RTMP into package
// ingest, or MPEG-TS on its stdout through ts.Stream); the live packager
// and origin serve it, and the live player page (hls.js or dash.js) runs
// in headless Chromium (package playtest's driver) with ?clock=1, reading
// the capture time back from every displayed frame.
//
// # The stage budget
//
// Each displayed frame is followed through five instants on the one
// machine clock ([Frame]):
//
//	capture ──encoder+ingest──▶ arrived ──packaging──▶ published ──delivery──▶ fetched ──player buffer──▶ displayed
//	 pixels                     ingest                 packager                 Resource Timing           requestVideoFrameCallback
//
// The capture time comes from the pixels, arrival from the ingest,
// publication from the packager (the same stamps the origin sends as
// Server-Timing), fetch completion from the page's Resource Timing of
// the part or segment that carried the frame, display from
// requestVideoFrameCallback. The frame is joined across them by its
// capture time (the clock's frame index, hence its decode time). The
// stages are consecutive intervals, so they add up to the measured total
// by construction; what the measurement can get wrong is a clock
// disagreement between browser and origin, which shows as negative
// stages ([Summary.Negative]). The means of the stages are reported:
// means add up, medians do not.
//
// Where the seconds go, in the default setup: x264 zerolatency adds no
// frame delay; packaging waits for the part to fill (half a part on
// average, plus a frame, since a part is cut when the next frame
// arrives) or, in plain HLS, for the whole segment; delivery is the
// player learning about it (blocking playlist reload and preload hints
// in LL-HLS, availabilityTimeOffset and chunked transfer in LL-DASH, a
// playlist poll in plain HLS); the player buffer is the hold-back (hls.js:
// three parts in LL-HLS, three segments in plain HLS; dash.js: its
// target live delay) and the decoder.
package latency
