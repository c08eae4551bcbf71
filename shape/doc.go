// Package shape puts a bad network and a flaky origin in front of any Go
// HTTP server: per-client bandwidth that follows a trace or a scenario of
// phases, added latency and jitter, packet loss felt the way a TCP
// connection feels it, and faults per request class (HTTP errors,
// truncated bodies, connection resets, a slow first byte). It needs no
// root and no tc/netem: it paces the bytes a handler writes.
//
//	sc, err := shape.LoadScenario("testdata/shape/bandwidth-drop.json")
//	s, err := shape.New(sc, shape.WithSeed(1))
//	http.ListenAndServe("127.0.0.1:8080", s.Handler(files))
//
// or, for a --shape flag, the one call [Wrap].
//
// # Scenarios
//
// A scenario (JSON, see [Scenario]; examples in testdata/shape/) is a list
// of phases, each with a duration, a rate in kbit/s (0 is an outage), a
// per-request latency with jitter and a packet loss rate, plus fault
// rules. Instead of phases it may name a trace file in any format package
// abr reads (Sabre JSON, CSV, Mahimahi, Pensieve cooked); [LoadScenario]
// also takes such a trace file directly. The decoder is strict: unknown
// fields, missing rates, negative or absurd values are errors that name
// the field.
//
// # Per-client links
//
// Every client gets its own link and its own timeline, which starts at its
// first request: two players started a minute apart both see the drop 30 s
// into their session. A client is the value of the X-Streamkit-Client
// header, else the streamkit_client cookie, else the remote IP
// ([DefaultClientKey]; replace with [WithClientKey]). All the requests of a
// client share its link, as a player's parallel connections share the
// bottleneck of a real access network.
//
// # Bandwidth: a token bucket that follows the timeline
//
// A link is a token bucket whose fill rate is the rate of the phase in
// force, integrated exactly across phase boundaries, holding at most
// burst_bytes (default 16 KiB) so that an idle link cannot bank more than
// a few milliseconds of data. A response is written in chunks of about
// 10 ms of data at the current rate (512 B to 16 KiB, never across a
// phase boundary); each chunk reserves
// its bits and is written, then flushed, when the bucket says they have
// been carried. Concurrent responses of one client queue for the same
// tokens, so they share the rate. An outage phase carries nothing: bytes
// and new responses wait for the next phase. Response headers are not
// counted.
//
// # Latency and jitter
//
// The phase's latency_ms (± a uniform draw in jitter_ms) is waited once
// per request, before its first byte — the request's round trip, as
// latency_ms in a Sabre trace, which makes shaped downloads comparable
// with abr's simulations of the same trace.
//
// # Loss, as TCP experiences it
//
// An application reading a TCP stream never sees a lost packet; it sees
// the stream stop until the retransmission arrives, and then a slower
// stream while the congestion window grows back. The shaper models that
// rather than dropping bytes. Each chunk of n bytes contains a loss event
// with probability 1-(1-p)^⌈n/1460⌉ (one event per chunk at most: NewReno
// recovery, RFC 6582, halves the window once per window of losses). On a
// loss event:
//
//   - the flow stalls for one RTT (fast retransmit, RFC 5681 §3.2: three
//     duplicate ACKs come back one RTT after the hole), or, when fewer than
//     three packets of the response follow the lost one (no three duplicate
//     ACKs can arrive), for a retransmission timeout of max(200 ms, 3·RTT)
//     (RFC 6298's SRTT + 4·RTTVAR with RTTVAR = RTT/2, and Linux's 200 ms
//     floor);
//   - the flow's rate is capped at half the rate it had (Reno's
//     multiplicative decrease, RFC 5681; CUBIC would keep 0.7, RFC 8312)
//     and the cap grows by one MSS per RTT (congestion avoidance) until the
//     link rate binds again.
//
// The RTT is the phase's latency_ms (10 ms when it is lower). Over many
// loss events this sawtooth yields the throughput of Mathis et al., "The
// macroscopic behavior of the TCP congestion avoidance algorithm" (CCR
// 1997), MSS/RTT·√(3/(2p)), the model Sabre-style simulators and netem
// experiments are compared with. It is one flow per client; a browser
// opening several connections recovers a little faster.
//
// # Faults
//
// Each request is classified ([Classify]: playlist/MPD, init, segment, LL-HLS
// part, other) and the fault rules for its class are consulted: first any
// at_s time the client's clock has passed (each fires once), else one
// uniform draw against the rules' rates laid end to end, so each rule fires
// at exactly its rate (the rates for a class may add up to at most 1).
// Kinds: status (the handler is not called; the status is answered),
// truncate (the first fraction of the body, default ½, then an orderly
// close: the client sees a short body), reset (fraction of the body,
// default 0, then a close with SO_LINGER 0, which sends a TCP RST),
// slow_first_byte (delay_ms more before the first byte: a slow origin).
//
// # Time and determinism
//
// The clock is injected ([WithClock]); tests run scenarios on a
// [FakeClock] without sleeping. Every random draw comes from a per-client
// PCG generator seeded from [WithSeed] and the client key, so a run is
// reproducible per client whatever the other clients do.
//
// # Resources
//
// At most [DefaultMaxClients] links are kept ([WithMaxClients]; the least
// recently used is dropped). Before each paced write the connection's
// write deadline is moved to now + the wait + 30 s ([WithStallTimeout]),
// so a server's write timeout bounds lack of progress rather than the
// length of a legitimately slow response.
package shape
