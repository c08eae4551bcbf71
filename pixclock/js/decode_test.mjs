// Run by pixclock/js_test.go: node decode_test.mjs FILE WIDTH HEIGHT.
// FILE holds gray frames back to back; prints one JSON line per frame.
import { readFileSync } from "node:fs";
import { decodeLuma } from "./pixclock.mjs";

const [file, w, h] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const all = readFileSync(file);
const size = w * h;
for (let off = 0; off + size <= all.length; off += size) {
  const r = decodeLuma(all.subarray(off, off + size), w, h);
  console.log(JSON.stringify(r.error ? { ok: false } : { ok: true, ms: r.ms }));
}
