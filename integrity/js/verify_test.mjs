// Run by integrity/js_test.go: node verify_test.mjs DIR. Prints one JSON
// line per check for the Go test to compare.
import { readFile } from "node:fs/promises";
import { importPublicKey, Verifier, p2pValidator } from "./integrity.mjs";

const dir = process.argv[2];
const read = (n) => readFile(`${dir}/${n}`);
const json = async (n) => JSON.parse(await read(n));
const out = (name, f) =>
  f().then((v) => console.log(JSON.stringify({ name, ok: v })), (e) => console.log(JSON.stringify({ name, code: e.code ?? String(e) })));

const key = await importPublicKey((await read("k.pub")).toString());
const other = await importPublicKey((await read("other.pub")).toString());
const sc = await json("v.integrity.json");
const v = new Verifier(key, "ll");
await out("load", () => v.load(sc));
await out("load r", async () => v.load(await json("r.integrity.json")));
await out("segment 5", async () => v.verify("v", { kind: "segment", seq: 5 }, await read("v/s5.m4s")));
await out("part 6.1", async () => v.verify("v", { kind: "part", seq: 6, part: 1 }, await read("v/p6.1.m4s")));
await out("init", async () => v.verify("v", { kind: "init", seq: 0 }, await read("v/init.mp4")));
await out("range 2", async () => v.verify("r", { kind: "segment", seq: 2 }, (await read("r/r.mp4")).subarray(13, 20)));
await out("flipped", async () => {
  const b = Buffer.from(await read("v/s5.m4s"));
  b[3] ^= 1;
  return v.verify("v", { kind: "segment", seq: 5 }, b);
});
await out("unknown", async () => v.verify("v", { kind: "segment", seq: 9 }, new Uint8Array(1)));
const validate = p2pValidator(v);
await out("p2p url", async () => validate("http://origin/live/v/s6.m4s?x=1", undefined, await read("v/s6.m4s")));
await out("p2p tampered", async () => validate("http://origin/live/v/s6.m4s", undefined, new Uint8Array(3)));
await out("p2p range", async () => validate("http://o/r/r.mp4", { start: 13, end: 19 }, (await read("r/r.mp4")).subarray(13, 20)));
const reordered = structuredClone(sc);
[reordered.entries[1], reordered.entries[2]] = [reordered.entries[2], reordered.entries[1]];
await out("reordered", () => new Verifier(key, "ll").load(reordered));
const swapped = structuredClone(sc);
[swapped.entries[1].sha256, swapped.entries[2].sha256] = [swapped.entries[2].sha256, swapped.entries[1].sha256];
await out("hashes swapped", () => new Verifier(key, "ll").load(swapped));
await out("wrong key", () => new Verifier(other, "ll").load(sc));
await out("other stream", () => new Verifier(key, "other").load(sc));
const older = await json("v.old.integrity.json");
await out("replayed older", () => v.load(older));
const spliced = structuredClone(sc);
spliced.entries[1].session -= 1;
await out("entry of another session", () => new Verifier(key, "ll").load(spliced));
const bumped = structuredClone(sc);
bumped.generation += 1;
await out("generation changed", () => new Verifier(key, "ll").load(bumped));
