package benchstat

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 3},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestInterleaved(t *testing.T) {
	var s Interleaved
	for i := range 5 {
		d := time.Duration(i)
		s.Add(d, 10*d, 100*d)
	}
	if a, b, c := s.Medians(); a != 2 || b != 20 || c != 200 {
		t.Fatalf("Medians = %v %v %v, want 2 20 200", a, b, c)
	}
	// Past its capacity it keeps the last samples.
	for range 2 * len(s.a) {
		s.Add(7, 70, 700)
	}
	if a, b, c := s.Medians(); a != 7 || b != 70 || c != 700 {
		t.Fatalf("Medians after wrapping = %v %v %v", a, b, c)
	}
}
