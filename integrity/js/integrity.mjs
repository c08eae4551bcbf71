// streamkit integrity: verify signed segment sidecars in a browser (or
// Node 20+) with WebCrypto. No dependencies. The wire format is drawn in
// integrity/doc.go; this file is its JavaScript half, checked against the
// Go implementation by integrity/js_test.go.
//
//   import { importPublicKey, Verifier } from "./integrity.mjs";
//   const key = await importPublicKey(pemText);            // NAME.pub
//   const v = new Verifier(key, "match-42");
//   await v.load(await (await fetch("video_720p.integrity.json")).json());
//   await v.verify("video_720p", { kind: "segment", seq: 118 }, bytes);   // true or throws
//
// With p2p-media-loader 2.x, validateP2PSegment(url, byteRange, data) can
// call v.verifyURL(url, byteRange, data) (see p2pValidator below): a false
// result makes p2p-media-loader drop the peer that sent the data.

const DOMAIN = "streamkit-integrity";
const VERSION = 1;
const KINDS = { init: 1, segment: 2, part: 3 };
const enc = new TextEncoder();

export class IntegrityError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code; // "format", "signature", "key", "stream", "order", "replay", "mismatch", "unknown"
  }
}

function hex(s, n, field) {
  if (typeof s !== "string" || s.length !== 2 * n || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new IntegrityError("format", `${field}: want ${2 * n} hex digits`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// Builder appends the big-endian fields of a statement.
class Builder {
  constructor() { this.parts = []; this.n = 0; }
  bytes(b) { this.parts.push(b); this.n += b.length; }
  u8(v) { this.bytes(Uint8Array.of(v)); }
  u16(v) { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, v); this.bytes(b); }
  u32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); this.bytes(b); }
  u64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v)); this.bytes(b); }
  str(s) { const b = enc.encode(s); this.u16(b.length); this.bytes(b); }
  head(type, stream, rendition) {
    this.u8(DOMAIN.length); this.bytes(enc.encode(DOMAIN)); this.u8(VERSION); this.u8(type);
    this.str(stream); this.str(rendition);
  }
  done() {
    const out = new Uint8Array(this.n);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

// entryStatement returns the bytes an entry's "sig" signs.
export function entryStatement(stream, rendition, e) {
  const b = new Builder();
  b.head(1, stream, rendition);
  b.u64(e.session);
  b.u8(KINDS[e.kind]);
  b.u64(e.seq);
  b.u32(e.part ?? 0);
  b.str(e.uri);
  b.u64(e.offset ?? 0);
  b.u64(e.length);
  b.bytes(hex(e.sha256, 32, "sha256"));
  return b.done();
}

// sidecarStatement returns the bytes a sidecar's "sig" signs.
export async function sidecarStatement(sc) {
  const parts = sc.entries.map((e) => entryStatement(sc.stream, sc.rendition, e));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  const b = new Builder();
  b.head(2, sc.stream, sc.rendition);
  b.u64(sc.session);
  b.u64(sc.generation);
  b.u32(sc.entries.length);
  b.bytes(digest);
  return b.done();
}

// importPublicKey reads a NAME.pub file (SPKI PEM) into a CryptoKey.
export async function importPublicKey(pem) {
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem);
  if (!m) throw new IntegrityError("format", "no PEM PUBLIC KEY block");
  const der = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, true, ["verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", key));
  key.streamkitKeyId = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).slice(0, 8));
  return key;
}

function order(e) {
  if (e.kind === "init") return [0, 0, 0];
  if (e.kind === "part") return [e.seq + 1, 0, e.part ?? 0];
  return [e.seq + 1, 1, 0];
}

function before(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

const keyOf = (e) => order(e).join("/");

// Verifier mirrors the Go Verifier: load sidecars, then verify data.
export class Verifier {
  constructor(key, stream) {
    this.key = key;
    this.stream = stream;
    this.renditions = new Map(); // rendition -> {generation, entries: Map}
  }

  // load checks a parsed sidecar (stream, key id, order, every entry
  // signature, the sidecar signature, generation not older than the last
  // one loaded) and trusts its entries.
  async load(sc) {
    if (sc.format !== "streamkit-integrity" || sc.version !== VERSION || !Array.isArray(sc.entries)) {
      throw new IntegrityError("format", "not a version 1 streamkit-integrity sidecar");
    }
    const where = `${sc.rendition} sidecar`;
    if (sc.stream !== this.stream) throw new IntegrityError("stream", `${where} is for stream ${JSON.stringify(sc.stream)}`);
    if (this.key.streamkitKeyId && sc.key_id !== this.key.streamkitKeyId) {
      throw new IntegrityError("key", `${where} signed with key ${sc.key_id}, trusted key is ${this.key.streamkitKeyId}`);
    }
    for (const [k, v] of [["generation", sc.generation], ["session", sc.session], ...sc.entries.flatMap((e) => [["seq", e.seq], ["session", e.session], ["offset", e.offset ?? 0], ["length", e.length]])]) {
      if (!Number.isSafeInteger(v) || v < 0) throw new IntegrityError("format", `${where}: ${k} is not an integer below 2^53`);
    }
    for (let i = 1; i < sc.entries.length; i++) {
      if (!before(order(sc.entries[i - 1]), order(sc.entries[i]))) {
        throw new IntegrityError("order", `${where}: entries[${i}] out of order (entries reordered or repeated)`);
      }
    }
    for (const [i, e] of sc.entries.entries()) {
      if (e.session !== sc.session) {
        throw new IntegrityError("replay", `${where}: entries[${i}] was signed in session ${e.session}, the sidecar's is ${sc.session}`);
      }
    }
    for (const [i, e] of sc.entries.entries()) {
      if (!(e.kind in KINDS)) throw new IntegrityError("format", `${where}: entries[${i}].kind`);
      const ok = await crypto.subtle.verify("Ed25519", this.key, hex(e.sig, 64, "sig"), entryStatement(sc.stream, sc.rendition, e));
      if (!ok) throw new IntegrityError("signature", `${where}: entries[${i}] signature does not match`);
    }
    if (!(await crypto.subtle.verify("Ed25519", this.key, hex(sc.sig, 64, "sig"), await sidecarStatement(sc)))) {
      throw new IntegrityError("signature", `${where}: sidecar signature does not match`);
    }
    const old = this.renditions.get(sc.rendition);
    if (old && sc.generation < old.generation) {
      throw new IntegrityError("replay", `${where}: generation ${sc.generation} is older than ${old.generation} already accepted`);
    }
    const entries = new Map(sc.entries.map((e) => [keyOf(e), e]));
    this.renditions.set(sc.rendition, { generation: sc.generation, entries, list: sc.entries });
  }

  // verify checks data as the entry {kind, seq, part} of rendition:
  // true, or an IntegrityError ("unknown": fetch from the origin;
  // "mismatch": drop the peer).
  async verify(rendition, want, data) {
    const e = this.renditions.get(rendition)?.entries.get(keyOf({ part: 0, ...want }));
    if (!e) throw new IntegrityError("unknown", `${rendition} ${want.kind} ${want.seq}: no signed entry`);
    return this.#check(rendition, e, data);
  }

  // verifyURL finds the entry by URI (relative to the sidecar, matched
  // as a suffix of url) and byte range, as p2p-media-loader names segments.
  async verifyURL(url, byteRange, data) {
    const path = new URL(url, "http://x/").pathname;
    for (const [rendition, r] of this.renditions) {
      for (const e of r.list) {
        if (e.kind !== "init" && path.endsWith("/" + e.uri) && (byteRange ? byteRange.start === (e.offset ?? 0) : !e.offset)) {
          return this.#check(rendition, e, data);
        }
      }
    }
    throw new IntegrityError("unknown", `${url}: no signed entry`);
  }

  async #check(rendition, e, data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    if (bytes.length !== e.length || toHex(h) !== e.sha256.toLowerCase()) {
      throw new IntegrityError("mismatch", `${rendition} ${e.kind} ${e.seq} (${e.uri}): data does not match the signed hash`);
    }
    return true;
  }
}

// p2pValidator adapts a Verifier to p2p-media-loader's
// validateP2PSegment(url, byteRange, data) => Promise<boolean>.
export function p2pValidator(verifier) {
  return async (url, byteRange, data) => {
    try {
      return await verifier.verifyURL(url, byteRange, data);
    } catch {
      return false;
    }
  };
}
