package abr

import (
	"testing"
)

// passDeliverer answers every request with the zero Delivery (the trace).
type passDeliverer struct{ calls int }

func (p *passDeliverer) Deliver(v View, seg, q int, bits float64) Delivery {
	p.calls++
	return Delivery{}
}

// fixedDeliverer supplies every segment: wait, then a fixed latency and a
// fixed rate.
type fixedDeliverer struct{ wait, lat, kbps float64 }

func (f fixedDeliverer) Deliver(v View, seg, q int, bits float64) Delivery {
	return Delivery{WaitMs: f.wait, LatencyMs: f.lat, TransferMs: bits / f.kbps, Supplied: true}
}

type flatSizes struct {
	Ladder
	flat []float64
}

func (f *flatSizes) SizeTable() []float64 { return f.flat }

func deliverInputs() (*Ladder, *Trace) {
	m := &Ladder{SegmentMs: 2000, Kbps: []float64{400, 1200, 3500}}
	for i := 0; i < 200; i++ {
		m.Sizes = append(m.Sizes, []float64{800e3 + float64(i), 2400e3, 7000e3 - float64(i)})
	}
	tr := &Trace{Name: "drop", Periods: []Period{
		{DurationMs: 20000, Kbps: 5000, LatencyMs: 30},
		{DurationMs: 40000, Kbps: 800, LatencyMs: 80},
		{DurationMs: 7000, Kbps: 0, LatencyMs: 80},
	}}
	return m, tr
}

// A Deliverer that always answers "from the trace" changes nothing, for
// every algorithm and with abandonment on; a shared size table gives the
// same session as a copied one.
func TestDelivererFromTraceIsIdentity(t *testing.T) {
	m, tr := deliverInputs()
	fm := &flatSizes{Ladder: *m}
	for _, r := range m.Sizes {
		fm.flat = append(fm.flat, r...)
	}
	for _, name := range Names() {
		a1, _ := New(name)
		a2, _ := New(name)
		a3, _ := New(name)
		s1, err := NewSession(m, tr, a1, WithBuffer(12000))
		if err != nil {
			t.Fatal(err)
		}
		pd := &passDeliverer{}
		s2, _ := NewSession(m, tr, a2, WithBuffer(12000), WithDeliverer(pd))
		s3, _ := NewSession(fm, tr, a3, WithBuffer(12000))
		m1, err1 := s1.Run()
		m2, err2 := s2.Run()
		m3, err3 := s3.Run()
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(name, err1, err2, err3)
		}
		if m1 != m2 || m1 != m3 {
			t.Errorf("%s: metrics differ:\n%+v\n%+v\n%+v", name, m1, m2, m3)
		}
		if pd.calls < 200 {
			t.Errorf("%s: %d Deliver calls for 200 segments", name, pd.calls)
		}
	}
}

// Supplied deliveries set the download time exactly and the session runs
// on them: at a constant supplied rate above the top bitrate, throughput
// plays the top level without stalls, whatever the trace does.
func TestDelivererSupplied(t *testing.T) {
	m, tr := deliverInputs()
	a, _ := New("throughput")
	var recs []SegmentRecord
	s, _ := NewSession(m, tr, a, WithBuffer(12000), WithDeliverer(fixedDeliverer{wait: 5, lat: 10, kbps: 20000}),
		WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
	met, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	if met.RebufferMs != 0 {
		t.Errorf("rebuffer %v ms with a 20 Mbit/s supply", met.RebufferMs)
	}
	for _, r := range recs {
		if want := 15 + r.SizeBits/20000; r.TimeMs != want || r.TTFBMs != 15 {
			t.Fatalf("segment %d: time %v ttfb %v, want %v and 15", r.Index, r.TimeMs, r.TTFBMs, want)
		}
	}
	if last := recs[len(recs)-1]; last.Quality != 2 {
		t.Errorf("last quality %d, want 2", last.Quality)
	}
	bad, _ := NewSession(m, tr, a, WithDeliverer(fixedDeliverer{lat: 10, kbps: -1}))
	if _, err := bad.Run(); err == nil {
		t.Error("a negative transfer time was accepted")
	}
}

func TestDelivererAllocations(t *testing.T) {
	m, tr := deliverInputs()
	a, _ := New("bolae")
	s, _ := NewSession(m, tr, a, WithBuffer(12000), WithDeliverer(fixedDeliverer{lat: 10, kbps: 3000}))
	allocs := testing.AllocsPerRun(5, func() {
		_ = s.Reset(WithBuffer(12000), WithDeliverer(fixedDeliverer{lat: 10, kbps: 3000}))
		for {
			done, err := s.Step()
			if err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations per 200-segment session", allocs)
	}
}

// HideWait keeps a Deliverer's wait out of the latency estimate, and only
// that: download times and the play clock include it.
func TestDelivererHideWait(t *testing.T) {
	m, tr := deliverInputs()
	run := func(hide bool) (Metrics, float64) {
		a, _ := New("throughput")
		d := hideDeliverer{hide: hide}
		s, _ := NewSession(m, tr, a, WithBuffer(12000), WithDeliverer(d))
		met, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		return met, s.View().Latency()
	}
	m1, l1 := run(false)
	m2, l2 := run(true)
	if !(l1 > 3000) || !(l2 < 100) {
		t.Errorf("latency estimates %v (wait seen) and %v (hidden), want > 3000 and < 100", l1, l2)
	}
	if !(m2.AverageBitrateKbps > m1.AverageBitrateKbps) {
		t.Errorf("hiding a 4 s wait should let throughput choose higher: %v vs %v", m2.AverageBitrateKbps, m1.AverageBitrateKbps)
	}
}

type hideDeliverer struct{ hide bool }

func (h hideDeliverer) Deliver(v View, seg, q int, bits float64) Delivery {
	return Delivery{WaitMs: 4000, LatencyMs: 10, TransferMs: bits / 20000, Supplied: true, HideWait: h.hide}
}
