// streamkit pixel clock decoder: the browser half of package pixclock
// (Go). Same layout, same thresholds, same verdicts as pixclock.Decode;
// pixclock/js_test.go checks that with Node on frames x264 has damaged.
// No dependencies. See the Go package documentation for the layout.

export const COLS = 16, ROWS = 11, DATA_BITS = 80;
const SYNC = [1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1];
const MAGIC = [0x53, 0x4b, 0x50, 0x43]; // "SKPC"
const MIN_CONTRAST = 0.25 * (235 - 16), SYNC_MARGIN = 0.25, BIT_MARGIN = 0.30;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function sample(luma, stride, w, h, col, row) {
  let x0 = Math.floor((col * w) / COLS), y0 = Math.floor((row * h) / ROWS);
  let x1 = Math.floor(((col + 1) * w) / COLS), y1 = Math.floor(((row + 1) * h) / ROWS);
  const qx = Math.floor((x1 - x0) / 4), qy = Math.floor((y1 - y0) / 4);
  x0 += qx; x1 -= qx; y0 += qy; y1 -= qy;
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    const off = y * stride;
    for (let x = x0; x < x1; x++) sum += luma[off + x];
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

// decodeLuma reads the capture time from a luma plane (one byte per
// pixel, rows stride apart). It returns { ms } (ms since the Unix epoch)
// or { error } when the code cannot be trusted, never a wrong time.
export function decodeLuma(luma, width, height, stride = width) {
  if (width < 2 * COLS || height < 2 * ROWS) return { error: `too small: ${width}x${height}` };
  if (stride < width || luma.length < stride * (height - 1) + width) return { error: "pixel buffer too small" };
  const s = [];
  for (let r = 0; r < ROWS; r++) {
    const row = [];
    for (let c = 0; c < COLS; c++) row.push(sample(luma, stride, width, height, c, r));
    s.push(row);
  }
  let white = 0, black = 0;
  SYNC.forEach((v, c) => { if (v) white += s[0][c]; else black += s[0][c]; });
  white /= 8; black /= 8;
  const contrast = white - black;
  if (contrast < MIN_CONTRAST) return { error: `no sync row (contrast ${contrast.toFixed(0)})` };
  const mid = (white + black) / 2;
  for (let c = 0; c < COLS; c++) {
    const d = s[0][c] - mid;
    if ((SYNC[c] && d < SYNC_MARGIN * contrast) || (!SYNC[c] && -d < SYNC_MARGIN * contrast)) {
      return { error: `sync cell ${c}` };
    }
  }
  const word = new Uint8Array(10);
  for (let i = 0; i < DATA_BITS; i++) {
    const row = 1 + (i >> 3), col = 2 * (i & 7);
    const d = s[row][col] - s[row][col + 1];
    if (d > -BIT_MARGIN * contrast && d < BIT_MARGIN * contrast) return { error: `weak bit ${i}` };
    if (d > 0) word[i >> 3] |= 1 << (7 - (i & 7));
  }
  const got = ((word[6] << 24) | (word[7] << 16) | (word[8] << 8) | word[9]) >>> 0;
  if (got !== crc32c([...MAGIC, ...word.subarray(0, 6)])) return { error: "checksum" };
  let ms = 0;
  for (let i = 0; i < 6; i++) ms = ms * 256 + word[i];
  return { ms };
}

// lumaOf converts canvas RGBA pixels (ImageData.data) to BT.601 luma.
export function lumaOf(rgba, width, height) {
  const y = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < y.length; i++, j += 4) {
    y[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
  }
  return y;
}

// decodeImageData decodes a canvas ImageData.
export function decodeImageData(img) {
  return decodeLuma(lumaOf(img.data, img.width, img.height), img.width, img.height);
}

// watch reads the code of every frame the video element presents
// (requestVideoFrameCallback) through a small canvas and calls
// onFrame({ capture, display, latency, mediaTime, frames }) with wall
// clock ms (display is when the frame is expected on screen:
// performance.timeOrigin + expectedDisplayTime) or onFrame({ error,
// mediaTime, frames }) for a frame it cannot read. It returns a function
// that stops watching.
export function watch(video, onFrame, { width = 320, height = 180 } = {}) {
  if (!video.requestVideoFrameCallback) throw new Error("requestVideoFrameCallback is not supported");
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let stopped = false;
  const cb = (now, meta) => {
    if (stopped) return;
    const display = performance.timeOrigin + (meta.expectedDisplayTime || now);
    let r;
    try {
      ctx.drawImage(video, 0, 0, width, height);
      r = decodeImageData(ctx.getImageData(0, 0, width, height));
    } catch (e) {
      r = { error: String(e) };
    }
    const base = { mediaTime: meta.mediaTime, frames: meta.presentedFrames };
    onFrame(r.error ? { ...base, error: r.error } : { ...base, capture: r.ms, display, latency: display - r.ms });
    video.requestVideoFrameCallback(cb);
  };
  video.requestVideoFrameCallback(cb);
  return () => { stopped = true; };
}
