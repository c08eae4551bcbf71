// The reference WebTorrent tracker (bittorrent-tracker's server) on
// 127.0.0.1, for tracker/reference_test.go. Usage: node
// reference-server.mjs NODE_MODULES_DIR; prints {"port": N}.
const dir = process.argv[2];
const { default: Server } = await import(`${dir}/bittorrent-tracker/server.js`);
const server = new Server({ udp: false, http: false, ws: true, stats: false });
server.on("error", (e) => console.error("error", e.message));
server.on("warning", () => {});
server.on("listening", () => console.log(JSON.stringify({ port: server.ws.address().port })));
server.listen(0, "127.0.0.1");
process.stdin.on("end", () => server.close(() => process.exit(0)));
process.stdin.resume();
