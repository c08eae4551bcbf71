// Package pixclock is the pixel clock of streamkit's glass-to-glass
// measurement: video frames whose pixels carry the wall-clock time at
// which they were captured, in a block code that survives lossy encoding
// and scaling, and the decoder that reads it back from any luma plane.
//
// # The code
//
// The frame is cut into a grid of 16 × 11 cells, whatever its size (the
// cells follow the aspect ratio, so a 16:9 frame has cells about 3:2;
// scaling keeps every cell where it was, as a fraction of the frame). A
// cell is flat black or flat white (luma 16 or 235). Row 0 is a fixed
// sync pattern; rows 1 to 10 carry 80 bits, 8 per row, each bit as a
// pair of horizontally adjacent cells (Manchester coding: white-black is
// 1, black-white is 0):
//
//	col:  0 1 2 3 4 5 6 7 8 9 A B C D E F
//	row 0 W W B W B B W B W W B B W B B W   sync: reference white/black levels
//	row 1 [b0 ][b1 ][b2 ][b3 ][b4 ][b5 ][b6 ][b7 ]   byte 0  ┐
//	row 2 [b8 ] …                                    byte 1  │ capture time,
//	 …                                                        │ ms since the Unix
//	row 6 …                                          byte 5  ┘ epoch, 48 bits BE
//	row 7 …                                          byte 6  ┐ CRC-32C of
//	 …                                                        │ "SKPC" + bytes 0–5
//	row 10 …                                         byte 9  ┘ (big endian)
//
// The decoder samples the middle half (in each direction) of every cell
// and averages it, so blur from scaling and the ringing and blocking of a
// low-bitrate encoder at cell edges do not reach the sample. The sync row
// gives the black and white levels; a frame whose sync cells are not
// clearly on their side of the mid level, or whose contrast is below a
// quarter of the nominal range, is not a clock frame. A bit is read from
// the difference of its two cells, which needs no threshold and is immune
// to slow brightness gradients; a difference below 30 % of the sync
// contrast is a weak bit and makes the frame unreadable. Finally the
// CRC-32C over the magic "SKPC" and the six time bytes must match.
//
// Why this shape: the failure the measurement cannot afford is a wrong
// time, not a missing one (a missing frame is just not counted). A
// low-bitrate encoder fails in two ways: it smears cells (caught by the
// weak-bit margin) and it updates only part of a changing picture, mixing
// two frames' codes (caught by the 32-bit CRC: a mixture is an arbitrary
// 80-bit word, accepted with probability 2⁻³²). Big flat cells cost an
// encoder almost nothing (a DC coefficient per block), so at 200 kbit/s
// and 320×180 x264 still draws them. The rest of the frame is the code
// itself: a clock frame has nothing else to spend bits on.
//
// # Frames and pacing
//
// [Draw] paints the code into a luma plane and [Decode] reads it back
// ([ErrUnreadable] when it cannot be trusted). A [Y4MWriter] writes
// yuv4mpegpipe 4:2:0 frames (what `ffmpeg -f yuv4mpegpipe -i -` reads),
// and [Run] paces frames to a live.Clock, stamping each with the time at
// which it is emitted: `streamkit clock` is Run on the system clock.
//
// # In the browser
//
// [JavaScript] is js/pixclock.mjs, the same decoder as an ES module
// (decodeLuma, decodeImageData, and watch, which reads the code of every
// displayed frame of a video element with requestVideoFrameCallback and
// a canvas). The live origin serves it at /js/pixclock.mjs and its player
// page reports capture → display latency per frame with ?clock=1.
package pixclock
