package abr

import (
	"fmt"
	"sort"
	"sync"
)

// Constructor makes a fresh Algorithm from its switches (what the
// AlgorithmOptions given to New set).
type Constructor func(c Config) Algorithm

var (
	regMu    sync.RWMutex
	registry = map[string]Constructor{}
	regDoc   = map[string]string{}
)

// Register adds an algorithm under name (replacing any previous one).
func Register(name, doc string, c Constructor) {
	regMu.Lock()
	defer regMu.Unlock()
	registry[name] = c
	regDoc[name] = doc
}

// New returns a fresh instance of the named algorithm built with opts.
func New(name string, opts ...AlgorithmOption) (Algorithm, error) {
	regMu.RLock()
	f, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("abr: unknown algorithm %q (have %v)", name, Names())
	}
	return f(NewConfig(opts...)), nil
}

// Names lists the registered algorithms, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Describe returns the one-line description of an algorithm.
func Describe(name string) string {
	regMu.RLock()
	defer regMu.RUnlock()
	return regDoc[name]
}

func init() {
	Register("throughput", "Sabre ThroughputRule: 0.9× EWMA throughput, insufficient-buffer cap, abandonment", func(c Config) Algorithm { return newThroughput(c) })
	Register("bola", "Sabre BOLA (BOLA-BASIC with -ab, BOLA-O with -ao)", func(c Config) Algorithm { return newBola(c) })
	Register("bolae", "Sabre BOLA-E with placeholder buffer (BOLA-PL with -noibr)", func(c Config) Algorithm { return newBolaE(c) })
	Register("dynamic", "Sabre DYNAMIC: BOLA above 10 s of buffer, THROUGHPUT below", func(c Config) Algorithm { return newDynamic(c) })
	Register("dynamicdash", "Sabre dynamicdash: BOLA-E / THROUGHPUT with 5 s/10 s hysteresis", func(c Config) Algorithm { return newDynamicDash(c) })
	Register("bba", "BBA-0 (Huang et al. 2014): buffer-based rate map, reservoir 5 s, cushion 10 s, with hysteresis", func(c Config) Algorithm { return newBBA(c) })
	Register("robustmpc", "robustMPC (Yin et al. 2015, as in Pensieve): harmonic-mean prediction with error discount, 5-segment look-ahead on linear QoE", func(c Config) Algorithm { return newMPC(c) })
}
