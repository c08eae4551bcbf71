package pixclock

import _ "embed"

// JavaScript is js/pixclock.mjs: the browser half of this package, an ES
// module without dependencies with the same decoder (decodeLuma,
// decodeImageData) and watch, which reads the code of every frame a
// video element presents (requestVideoFrameCallback, canvas) and reports
// capture → display latency. Servers serve it as text/javascript; the
// live origin at /js/pixclock.mjs. js_test.go checks it against Decode
// with Node.
//
//go:embed js/pixclock.mjs
var JavaScript string
