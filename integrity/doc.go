// Package integrity signs and verifies media segments, so that a player
// can use bytes it received from an untrusted peer.
//
// # Threat model
//
// In P2P-assisted delivery (p2p-media-loader, the swarm simulator in this
// module) a viewer downloads most segments from other viewers. Any peer
// can send altered bytes: a broken client, a peer that injects its own
// video, one that replays an older stream. HLS and DASH define no segment
// hashes, and a plain hash list (PeerTube's segments-sha256.json) is only
// as trustworthy as the server it came from. Here the packager signs, with
// an Ed25519 key whose public half the player knows in advance, a
// statement per segment: "in stream S, rendition R, segment number N has
// SHA-256 H". A peer cannot forge it without the private key, cannot
// move it to another stream, rendition or position (they are signed), and
// cannot swap entries around (each sidecar signs its whole entry list and
// its order). Every entry also signs its signer's session (the time the
// packager started signing): an entry signed by an earlier packaging or
// before a live packager restarted (when segment numbers may start again)
// is refused as a replayed older signature. A sidecar carries a
// generation that only grows; a verifier that remembers the newest
// generation it accepted ([History]) rejects an older sidecar someone
// replays whole (the rollback attack TUF's timestamp role guards against).
//
// Out of scope: confidentiality (use DRM/encryption), availability (a
// peer can still withhold data: the player refetches from the CDN), and a
// stolen private key (rotate it: the key id is in every sidecar).
//
// # Files
//
// One sidecar per rendition, [SidecarName] ("video_360p.integrity.json")
// beside the media playlist, URIs relative to it. It is JSON so that a
// browser can check it with WebCrypto:
//
//	{
//	  "format": "streamkit-integrity", "version": 1,
//	  "stream": "sample", "rendition": "video_360p",
//	  "generation": 1733480000000,        // grows with every rewrite
//	  "session": 1733479990000,           // the signer's start; in every entry too
//	  "key_id": "3f2a9c0d1e4b5a69",        // first 8 bytes of SHA-256(public key), hex
//	  "entries": [                          // in publication order, see below
//	    {"kind": "init", "seq": 0, "session": 1733479990000, "uri": "video_360p/init.mp4",
//	     "offset": 0, "length": 812, "sha256": "<64 hex>", "sig": "<128 hex>"},
//	    {"kind": "part", "seq": 7, "part": 0, "uri": "...", ...},
//	    {"kind": "segment", "seq": 7, "uri": "video_360p/seg_7.m4s", ...}
//	  ],
//	  "sig": "<128 hex: Ed25519 over the sidecar statement>"
//	}
//
// Entries are init (at most one, first), then per sequence number its
// LL-HLS parts in part order and then the whole segment. With byte-range
// packaging (one file, many ranges) offset and length locate the segment
// in the file. seq is the publisher's segment number: streamkit package
// uses the segment number from 1 (DASH $Number$, seg_N.m4s); the live
// packager uses the HLS media sequence number. All numbers are below
// 2^53 so that JavaScript reads them exactly.
//
// Keys are PEM files: PKCS#8 "PRIVATE KEY" (NAME.key, mode 0600) and
// PKIX/SPKI "PUBLIC KEY" (NAME.pub), each after one comment line naming
// the key id; openssl reads both (openssl pkey -in NAME.key) and WebCrypto
// imports the public one with importKey("spki", ...).
//
// # Signed statements (wire format, version 1)
//
// Signatures never cover JSON (which has no canonical form) but these
// byte strings, rebuilt by the verifier from the parsed fields. Integers
// are big-endian; str is a 2-byte length then the bytes; the leading
// domain string keeps these signatures from being valid for anything else
// signed with the same key, and version and type from being confused with
// each other.
//
//	 entry statement                       sidecar statement
//	+------------------------------+      +------------------------------+
//	| 0x13 "streamkit-integrity"   |      | 0x13 "streamkit-integrity"   |
//	| u8  version = 1              |      | u8  version = 1              |
//	| u8  type    = 1 (entry)      |      | u8  type    = 2 (sidecar)    |
//	| str stream                   |      | str stream                   |
//	| str rendition                |      | str rendition                |
//	| u64 session                  |      | u64 session                  |
//	| u8  kind 1 init, 2 segment,  |      | u64 generation               |
//	|          3 part              |      | u32 number of entries        |
//	| u64 seq                      |      | [32] SHA-256 of the entry    |
//	| u32 part (0 unless a part)   |      |      statements, in order    |
//	| str uri                      |      +------------------------------+
//	| u64 offset                   |
//	| u64 length                   |
//	| [32] SHA-256 of the bytes    |
//	+------------------------------+
//
// An entry's sig lets a peer check one segment with one signature (and
// lets the live packager push single entries ahead of the next sidecar,
// [Verifier.AddEntry]); the sidecar's sig binds the list, its order and
// its generation.
//
// # Checking in a browser
//
// js/integrity.mjs (embedded as [JavaScript]) is the same verifier in
// JavaScript over WebCrypto, tested against this package with Node.
// p2p-media-loader 2.x calls validateP2PSegment(url, byteRange, data)
// before using bytes from a peer (false destroys that peer connection):
//
//	import { importPublicKey, Verifier, p2pValidator } from "/integrity.mjs";
//	const v = new Verifier(await importPublicKey(pemText), "match-42");
//	await v.load(await (await fetch("video_720p.integrity.json")).json()); // on every playlist reload
//	const config = { core: { validateP2PSegment: p2pValidator(v) } };
//
// Verifier.load rebuilds the statements above with a DataView, checks
// every signature with crypto.subtle.verify("Ed25519", ...), the order
// and the generation; verify hashes the data with
// crypto.subtle.digest("SHA-256", ...). Ed25519 in WebCrypto ships in
// Chrome 137+, Firefox 129+, Safari 17+ and Node 20+.
//
// # Go API
//
// A publisher calls [Signer.AddInit], [Signer.AddSegment] (or
// [Signer.AddByteRange]) and [Signer.AddPart] once per published piece
// and [Signer.Sidecar] to get the signed sidecar to publish;
// [SignPresentation] does that for a packaged VOD presentation. A peer
// builds a [Verifier] with the publisher's public key and the stream id,
// loads sidecars with [Verifier.Load] and calls [Verifier.Verify] (or
// VerifyPart, VerifyInit) before using data: errors.Is(err, ErrUnknown)
// means "cannot tell, fetch it from the CDN", ErrMismatch means "this peer
// sent altered bytes". [Check] verifies a whole package in a directory or
// on a web server (streamkit verify).
package integrity
