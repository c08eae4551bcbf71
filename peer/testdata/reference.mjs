// Runs p2p-media-loader-core 2.3.1's own serializer and swarm-id code on
// the cases the Go test sends (JSON on stdin) and prints the results, so
// that the Go implementation is compared with the reference, not with a
// copy of it. argv[2]: the node_modules directory.
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const lib = process.argv[2] + "/p2p-media-loader-core/lib/";
const Cmd = await import(pathToFileURL(lib + "p2p/commands/index.js"));
const Stream = await import(pathToFileURL(lib + "utils/stream.js"));
const PeerUtil = await import(pathToFileURL(lib + "utils/peer.js"));

const input = JSON.parse(readFileSync(0, "utf8"));
const hex = (b) => Buffer.from(b).toString("hex");
const out = { encoded: [], decoded: [], ids: [] };
for (const { command, max } of input.encode) {
  out.encoded.push(Cmd.serializePeerCommand(command, max).map(hex));
}
for (const h of input.decode) {
  const chunks = h.map((x) => new Uint8Array(Buffer.from(x, "hex")));
  let got = null;
  const j = new Cmd.BinaryCommandChunksJoiner((body) => { got = Cmd.deserializeCommand(body); });
  for (const c of chunks) {
    if (!Cmd.isCommandChunk(c)) throw new Error("not a command chunk: " + hex(c));
    j.addCommandChunk(c);
  }
  out.decoded.push(got);
}
for (const { swarm, attrs } of input.ids) {
  const short = Stream.generateStreamShortId(attrs);
  const ssid = Stream.getStreamSwarmId(swarm, { type: attrs.type, index: short });
  out.ids.push({ short, ssid, hash: PeerUtil.getStreamHash(ssid) });
}
console.log(JSON.stringify(out));
