// Package ingest receives live streams from encoders — RTMP (OBS,
// ffmpeg, hardware encoders; H.264, Enhanced-RTMP HEVC and AV1, AAC), SRT
// carrying MPEG-TS, and MPEG-TS over UDP
// (unicast or multicast) — and feeds each one to its own live.Packager,
// served by a live.Origin at /live/NAME/ (LL-HLS, plain HLS and LL-DASH
// from one set of CMAF parts). No transcoding: renditions come from the
// encoder.
//
// # Names, ladders and keys
//
// A publish names its stream: the RTMP path's last element
// (rtmp://HOST/live/NAME), the SRT streamid "publish:NAME" (or
// "#!::r=NAME,m=publish"), or the UDP listener's ?name=. Publishes named
// NAME_1080, NAME_720, … (three or four digits after the last underscore,
// a picture height, with an optional trailing "p"; room_1 stays a name)
// are renditions of one ladder served at /live/NAME/, video
// renditions v1080, v720, …; the audio of the first publish becomes a0.
// The query parameter ?rendition=720 (RTMP URL, SRT streamid) says the
// same without renaming. The members of a ladder are gathered for
// [WithLadderWait] after the first arrives; one that arrives after the
// stream started is refused (the packager's rendition set is fixed when
// the first sample is pushed), unless it is a member reconnecting.
// Key-frame alignment across the renditions is checked live by the
// packager (live.EventDrift, logged).
//
// With [WithPublishKey] a publish must carry the key: ?key=K on the RTMP
// URL, "publish:NAME:K" or "publish:NAME?key=K" as the SRT streamid.
// MPEG-TS over UDP has no publisher identity: bind it to a trusted
// address.
//
// # Timelines
//
// Each publish (a session) maps its source timestamps onto the stream's
// live timeline, which starts at 0: the session's first video key frame
// (its first sample without video) maps to where the stream stands (0 for
// the first session), so DTS ≥ 0 and audio and video keep their offsets.
// Sessions of a ladder whose source clocks agree (one encoder, several
// outputs) share one mapping, so key frames stay aligned. RTMP's 32-bit
// millisecond timestamps and MPEG-TS's 33-bit 90 kHz ones are unwrapped;
// a jump of a track's source time backwards or forwards by more than
// [WithJumpLimit] remaps the session after the media already published
// and marks a discontinuity; a publisher that disconnects and reconnects
// under the same name continues the stream after a discontinuity (a new
// DASH Period, EXT-X-DISCONTINUITY), so viewers keep playing.
//
// # Arrival timestamps
//
// Every frame pushed is stamped with the injected clock's time when its
// last byte arrived from the network (the RTMP message, the TS packet
// that completed the access unit); [WithArrival] reports it with the
// frame's rendition and live DTS/PTS, so that latency tooling can compare
// ingest arrival with capture time and with the publication of the part
// that carries the frame (live.Part.Published).
//
// # Robustness
//
// Every listener bounds its connections ([WithMaxStreams] concurrent
// publishers), reads with a deadline ([WithReadTimeout]: a stalled
// publisher is dropped), measures each publisher's bitrate
// ([WithMaxBitrate]), and shuts down with its context: connections are
// closed and every goroutine has returned when Serve* returns. A
// connection sending garbage is closed with a logged reason; each
// connection runs on its own goroutine and holds only its own stream's
// lock while pushing, so one slow or broken publisher does not block
// the others.
package ingest
