// Package live is streamkit's live packager and LL-HLS / LL-DASH origin.
//
// A [Packager] is fed sample by sample, per rendition (a video rendition
// of a ladder or an audio track), on one live timeline. It cuts segments
// at key frames near the target duration and parts (CMAF chunks:
// moof+mdat) at the part target (audio: on an even grid over the segment,
// so that a segment never ends on a sliver of a part, which hls.js 1.7.4
// can skip and stall on), keeps a sliding window of them in
// memory, optionally mirrors them to a directory, and wakes the HTTP
// requests waiting for a part or segment when it is published: each
// rendition has a channel that is closed and replaced on every publish,
// so a held request is one parked goroutine and nothing polls.
//
// Segments come from the project's one CMAF writer (mp4.Fragmenter): a
// live segment is byte-compatible with a VOD one, and a segment is its
// parts concatenated.
//
// With [WithSigner] each init segment, part and segment is signed
// (package integrity) as it is published, before the publish that lets a
// playlist list it; the Origin serves each rendition's sidecar at
// PREFIX/NAME.integrity.json and the mirror writes it before the
// playlist.
//
// Time comes from a [Clock]: the mapping of the live timeline to wall
// clock (EXT-X-PROGRAM-DATE-TIME, ProducerReferenceTime), the pacing of a
// [FileSource] and the deadline of held requests. Tests run on a
// [FakeClock] without sleeping. That mapping is [Packager.SetEpoch]'s, or
// else the earliest arrival of the first samples (a source whose first
// seconds arrive late in a burst would otherwise be dated seconds late,
// and an LL-DASH player, which times its requests by the MPD, would play
// that much further behind); it no longer moves once an MPD or a
// playlist has shown it.
//
// An [Origin] serves the packager: the multivariant and media playlists
// of LL-HLS (draft-pantos-hls-rfc8216bis, version 9: parts, preload
// hints, blocking reload, delta updates, rendition reports) or plain live
// HLS, and dynamic MPDs for LL-DASH (availabilityTimeOffset, chunked
// transfer of segments in progress, ServiceDescription,
// ProducerReferenceTime, UTCTiming) over the same files. [Serve] runs it
// on the project's shared HTTP server (internal/httpserver) with
// HTTP/1.1, h2c or h2 over TLS, timeouts renewed per write, a connection
// limit and a graceful shutdown: requests held for media are answered
// the moment the shutdown begins (the server's draining signal reaches
// them through the request context), transfers drain in the grace
// period.
//
// For glass-to-glass measurement (package latency) every part and
// segment response carries Server-Timing: the ingest arrival of its first
// frame ([Part].Arrived) and its publication, and [Packager.Locate] finds
// the part of any frame. The player page, with ?clock=1, reads the
// capture time from the pixels of every displayed frame (package
// pixclock's decoder, which pixclock.ServeScript serves beside the
// origin).
package live
