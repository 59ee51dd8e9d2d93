// Package benchstat holds the statistics the benchmarks of every module
// report: medians of per-iteration timings, which a loaded machine's
// preemptions move far less than sums do.
package benchstat

import (
	"slices"
	"time"
)

// Median returns the median of d, sorting d in place; 0 when d is empty.
func Median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// Interleaved keeps the last samples of three timings taken in the same
// iteration (a baseline and two variants, run back to back), so that
// their medians compare runs that saw the same machine.
type Interleaved struct {
	a, b, c [4096]time.Duration
	n       int
}

// Add records one iteration's three timings.
func (s *Interleaved) Add(a, b, c time.Duration) {
	i := s.n % len(s.a)
	s.a[i], s.b[i], s.c[i] = a, b, c
	s.n++
}

// Medians returns the median of each of the three timings.
func (s *Interleaved) Medians() (a, b, c time.Duration) {
	m := func(d []time.Duration) time.Duration {
		return Median(slices.Clone(d[:min(s.n, len(d))]))
	}
	return m(s.a[:]), m(s.b[:]), m(s.c[:])
}
