package playtest

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestWriteSVG(t *testing.T) {
	r := &Result{Engine: "hls.js 1.7.4", Src: "/master.m3u8", StartupS: 1.2, ElapsedS: 12,
		Stalls:  []Stall{{AtS: 4, DurationS: 3, PositionS: 2.8}},
		Bitrate: []Switch{{TS: 1.2, Kbps: 393, Level: 2}, {TS: 7.5, Kbps: 184, Level: 0}},
		Samples: []Sample{{TS: 0.5}, {TS: 1, BufferS: 2}, {TS: 4, BufferS: 0}, {TS: 8, BufferS: 4}}}
	r.PositionS = 8
	r.summarize()
	var b bytes.Buffer
	if err := r.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	elems := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b.String())
		}
		if se, ok := tok.(xml.StartElement); ok {
			elems[se.Name.Local]++
		}
	}
	// two bitrate steps, one shaded stall (plus the two panel frames and
	// the background), one buffer line
	if elems["line"] != 2 || elems["rect"] != 4 || elems["polyline"] != 1 {
		t.Errorf("elements %v", elems)
	}
	if s := b.String(); !strings.Contains(s, "1 stalls 3.00 s") || !strings.Contains(s, "1 switches") {
		t.Errorf("summary missing:\n%s", s)
	}
}
