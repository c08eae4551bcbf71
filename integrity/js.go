package integrity

import _ "embed"

// JavaScript is js/integrity.mjs: the browser half of this package, an ES
// module without dependencies that verifies sidecars and segments with
// WebCrypto (importPublicKey, Verifier.load, Verifier.verify, and
// p2pValidator for p2p-media-loader's validateP2PSegment). A server
// serves it beside its player page as text/javascript; js_test.go checks
// it against this package with Node.
//
//go:embed js/integrity.mjs
var JavaScript string
