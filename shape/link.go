package shape

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// TCP constants of the loss model (see the package documentation).
const (
	mss       = 1460  // bytes per packet
	renoBeta  = 0.5   // multiplicative decrease on a loss event (RFC 5681)
	minRTT    = 0.010 // s: the RTT used when a phase has no latency
	minRTO    = 0.200 // s: Linux's minimum retransmission timeout
	tailPkts  = 3     // fewer packets than this after a loss: no 3 dup ACKs, so an RTO
	chunkTime = 0.010 // s of data per write at the current rate
	minChunk  = 512   // bytes
	maxChunk  = 16 << 10
)

// plan is a validated scenario's timeline in seconds.
type plan struct {
	ph     []Phase
	start  []float64 // start of each phase
	total  float64
	loop   bool
	maxBps float64
	burst  float64 // bits
}

func newPlan(sc *Scenario) *plan {
	p := &plan{ph: sc.Phases, start: make([]float64, len(sc.Phases)), loop: sc.Loop}
	for i, ph := range sc.Phases {
		p.start[i] = p.total
		p.total += ph.DurationS
		p.maxBps = math.Max(p.maxBps, ph.Kbps*1000)
	}
	b := sc.BurstBytes
	if b == 0 {
		b = DefaultBurst
	}
	p.burst = float64(b) * 8
	return p
}

// at returns the phase index in force at t (s since the client's start),
// the loop count k and the end of that phase (s, +Inf for the last phase
// of a plan that does not loop).
func (p *plan) at(t float64) (i int, k float64, end float64) {
	if t < 0 {
		t = 0
	}
	if p.loop {
		k = math.Floor(t / p.total)
		t -= k * p.total
	} else if t >= p.total {
		return len(p.ph) - 1, 0, math.Inf(1)
	}
	i = sort.Search(len(p.start), func(j int) bool { return p.start[j] > t }) - 1
	if i < 0 {
		i = 0
	}
	return i, k, p.end(i, k)
}

func (p *plan) end(i int, k float64) float64 {
	if !p.loop && i == len(p.ph)-1 {
		return math.Inf(1)
	}
	return k*p.total + p.start[i] + p.ph[i].DurationS
}

func (p *plan) next(i int, k float64) (int, float64) {
	if i++; i == len(p.ph) {
		i, k = 0, k+1
	}
	return i, k
}

// integrate returns the bits the link carries in [from, to) at the phase
// rates limited to capBps, stopping early once limit is reached.
func (p *plan) integrate(from, to, capBps, limit float64) float64 {
	sum := 0.0
	i, k, end := p.at(from)
	for t := from; t < to && sum < limit; {
		e := math.Min(end, to)
		sum += math.Min(p.ph[i].Kbps*1000, capBps) * (e - t)
		t = e
		i, k = p.next(i, k)
		end = p.end(i, k)
	}
	return sum
}

// deliver returns the time at which bits more bits have been carried,
// starting at from.
func (p *plan) deliver(from, bits, capBps float64) float64 {
	i, k, end := p.at(from)
	t := from
	for {
		r := math.Min(p.ph[i].Kbps*1000, capBps)
		if r > 0 {
			if d := bits / r; t+d <= end {
				return t + d
			}
			bits -= r * (end - t)
		}
		t = end
		i, k = p.next(i, k)
		end = p.end(i, k)
	}
}

// link is one client's bottleneck: a token bucket whose fill rate follows
// the plan, and the state of the emulated TCP flow.
type link struct {
	mu     sync.Mutex
	p      *plan
	key    string
	start  time.Time
	used   time.Time // last request, for eviction
	tokens float64   // bits available at last (never above burst)
	last   float64   // s since start
	// congestion window after a loss event, as a rate cap: capBase at
	// capT, growing by capSlope per second until it no longer binds.
	capped            bool
	capBase, capSlope float64
	capT              float64
	losses            int
	rng               *rand.Rand
	atNext            []int // per fault rule, the next at_s index to fire
}

func (l *link) since(t time.Time) float64 { return t.Sub(l.start).Seconds() }
func (l *link) timeAt(s float64) time.Time {
	return l.start.Add(time.Duration(s * float64(time.Second)))
}

func (l *link) capAt(t float64) float64 {
	if !l.capped {
		return math.Inf(1)
	}
	c := l.capBase + l.capSlope*math.Max(0, t-l.capT)
	if c >= l.p.maxBps {
		l.capped = false
		return math.Inf(1)
	}
	return c
}

// chunk is the size of the next write at time now: about 10 ms of data at
// the current rate, so that bytes leave smoothly and concurrent responses
// of one client interleave, and never past the end of the phase.
func (l *link) chunk(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := math.Max(l.since(now), l.last) // where the next reservation starts
	i, _, end := l.p.at(t)
	r := math.Min(l.p.ph[i].Kbps*1000, l.capAt(t))
	n := math.Max(minChunk, math.Min(maxChunk, r*chunkTime/8))
	// a chunk does not straddle a phase boundary, so every byte is
	// written in the phase that carried it
	if left := math.Floor(r * (end - t) / 8); left >= 1 && left < n {
		n = left
	}
	return int(n)
}

// reserve books n bytes at now and returns when they have been carried
// (and, after a loss, retransmitted). remaining is how many bytes of the
// response follow these ones (-1 when unknown).
func (l *link) reserve(now time.Time, n int, remaining int64) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.since(now)
	if t > l.last {
		if l.tokens < l.p.burst {
			l.tokens = math.Min(l.p.burst, l.tokens+l.p.integrate(l.last, t, l.capAt(l.last), l.p.burst-l.tokens))
		}
		l.last = t
	}
	l.tokens -= float64(n) * 8
	end := l.last
	if l.tokens < 0 {
		end = l.p.deliver(l.last, -l.tokens, l.capAt(l.last))
		l.tokens, l.last = 0, end
	}
	i, _, _ := l.p.at(end)
	ph := &l.p.ph[i]
	if ph.Loss > 0 && l.rng.Float64() < 1-math.Pow(1-ph.Loss, math.Ceil(float64(n)/mss)) {
		l.losses++
		rtt := math.Max(minRTT, ph.LatencyMs/1000)
		stall := rtt // fast retransmit: the hole is filled one RTT later
		if remaining >= 0 && remaining < tailPkts*mss {
			stall = math.Max(minRTO, 3*rtt) // tail loss: RTO = SRTT + 4·RTTVAR with RTTVAR = RTT/2
		}
		eff := math.Min(ph.Kbps*1000, l.capAt(end))
		l.capped = true
		l.capBase = math.Max(renoBeta*eff, mss*8/rtt)
		l.capSlope = mss * 8 / (rtt * rtt) // +1 MSS per RTT
		end += stall
		l.capT, l.tokens, l.last = end, 0, end
	}
	return l.timeAt(end)
}

// latency draws the first-byte delay of a request starting at now.
func (l *link) latency(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _, _ := l.p.at(l.since(now))
	ph := &l.p.ph[i]
	ms := ph.LatencyMs
	if ph.JitterMs > 0 {
		ms += (2*l.rng.Float64() - 1) * ph.JitterMs
	}
	return time.Duration(math.Max(0, ms) * float64(time.Millisecond))
}
