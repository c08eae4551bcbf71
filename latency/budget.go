package latency

import (
	"fmt"
	"slices"
	"time"
)

// Frame is one video frame followed from the camera to the screen: five
// wall-clock instants on one machine's clock.
//
//	Capture    the time its pixels carry (package pixclock): when the
//	           clock wrote it to the encoder
//	Arrived    its last byte reached the ingest (the origin's stamp)
//	Published  the part carrying it was published (LL-HLS, LL-DASH), or
//	           its segment completed (plain HLS)
//	Fetched    the player's request for it completed (Resource Timing
//	           responseEnd; for a segment sent while in progress, the
//	           later of its part's publication and the response start:
//	           the page cannot see a chunk arrive, and on loopback the
//	           chunk follows its publication within a millisecond)
//	Displayed  it was presented (requestVideoFrameCallback's
//	           expectedDisplayTime)
type Frame struct {
	Index                                           int // in the clock's output
	Capture, Arrived, Published, Fetched, Displayed time.Time
}

// Total is glass-to-glass latency: display minus capture.
func (f Frame) Total() time.Duration { return f.Displayed.Sub(f.Capture) }

// Budget splits a latency into its stages, consecutive intervals between
// the instants of a Frame.
type Budget struct {
	// EncodeIngest is capture → ingest arrival: the encoder's buffering
	// (x264 zerolatency: none; default x264: its lookahead and B-frames),
	// the muxer, and the network to the ingest.
	EncodeIngest time.Duration
	// Packaging is arrival → publication: waiting for the part (or, for
	// plain HLS, the segment) to fill: on average half a part or half a
	// segment, plus one frame (a part is cut when the next frame arrives).
	Packaging time.Duration
	// Delivery is publication → fetch completion: the player learning
	// that the part exists (playlist reload, blocking reload, preload
	// hint, availabilityTimeOffset) and the transfer.
	Delivery time.Duration
	// PlayerBuffer is fetch → display: the player's hold-back (hls.js:
	// three parts or three segments behind the live edge), its buffer
	// and the decoder.
	PlayerBuffer time.Duration
}

// Budget returns the stages of f.
func (f Frame) Budget() Budget {
	return Budget{
		EncodeIngest: f.Arrived.Sub(f.Capture),
		Packaging:    f.Published.Sub(f.Arrived),
		Delivery:     f.Fetched.Sub(f.Published),
		PlayerBuffer: f.Displayed.Sub(f.Fetched),
	}
}

// Sum is the stages added up.
func (b Budget) Sum() time.Duration {
	return b.EncodeIngest + b.Packaging + b.Delivery + b.PlayerBuffer
}

// Stages returns the stages in order with their names.
func (b Budget) Stages() []struct {
	Name string
	D    time.Duration
} {
	return []struct {
		Name string
		D    time.Duration
	}{{"encoder+ingest", b.EncodeIngest}, {"packaging", b.Packaging}, {"delivery", b.Delivery}, {"player buffer", b.PlayerBuffer}}
}

// SumTolerance is how far the stages may add up from the measured total
// (the acceptance bound of issue 18).
const SumTolerance = 50 * time.Millisecond

// Summary is what a run of one mode measured.
type Summary struct {
	Displayed  int // frames the page saw presented
	Readable   int // of which the pixel clock could read
	Budgeted   int // of which every stage was found (the budget's frames)
	Unreadable int
	// Median, P95 of glass-to-glass over the readable frames.
	Median, P95 time.Duration
	// Mean is glass-to-glass over the budgeted frames, Budget the mean
	// of each stage over the same frames: means add up, so Budget.Sum()
	// equals Mean up to rounding. Negative counts budgeted frames with a
	// negative stage (the browser's and the origin's clocks disagree).
	Mean     time.Duration
	Budget   Budget
	Negative int
}

// Summarize computes the summary of frames (readable ones; those with
// every instant set form the budget). unreadable is the page's count of
// frames it could not read.
func Summarize(frames []Frame, unreadable int) Summary {
	s := Summary{Readable: len(frames), Unreadable: unreadable, Displayed: len(frames) + unreadable}
	var totals []time.Duration
	var sum [5]time.Duration
	for _, f := range frames {
		totals = append(totals, f.Total())
		if f.Arrived.IsZero() || f.Published.IsZero() || f.Fetched.IsZero() {
			continue
		}
		b := f.Budget()
		s.Budgeted++
		sum[0] += f.Total()
		neg := false
		for i, st := range b.Stages() {
			sum[i+1] += st.D
			neg = neg || st.D < 0
		}
		if neg {
			s.Negative++
		}
	}
	if len(totals) > 0 {
		slices.Sort(totals)
		s.Median = totals[len(totals)/2]
		s.P95 = totals[min(len(totals)-1, len(totals)*95/100)]
	}
	if n := time.Duration(s.Budgeted); n > 0 {
		s.Mean = sum[0] / n
		s.Budget = Budget{sum[1] / n, sum[2] / n, sum[3] / n, sum[4] / n}
	}
	return s
}

// Check reports an error when the stage means do not add up to the
// measured mean within SumTolerance.
func (s Summary) Check() error {
	if s.Budgeted == 0 {
		return fmt.Errorf("latency: no frame has a complete budget")
	}
	if d := s.Budget.Sum() - s.Mean; d > SumTolerance || d < -SumTolerance {
		return fmt.Errorf("latency: the stages add up to %v, the measured total is %v", s.Budget.Sum(), s.Mean)
	}
	return nil
}
