package lockstep

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// repeatInts is n copies of v.
func repeatInts(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestAdvantageWindow feeds advantage samples one per frame and checks what time sync asks
// for at every sample: nothing mid-window, the rounded mean (capped) at the end of each.
func TestAdvantageWindow(t *testing.T) {
	const w = timeSyncWindow
	type want struct {
		at   int // index of the sample that returns it
		wait int
	}
	for _, tc := range []struct {
		name    string
		samples []int
		waiting map[int]bool // sample index -> a wait is still running
		want    []want       // every non-zero answer, in order
	}{
		{name: "level peers never wait", samples: repeatInts(0, 3*w)},
		{name: "behind never waits", samples: repeatInts(-5, 2*w)},
		{name: "a steady lead of 3 waits 3 at each window's end", samples: repeatInts(3, 2*w),
			want: []want{{w - 1, 3}, {2*w - 1, 3}}},
		{name: "one frame short of a window says nothing", samples: repeatInts(3, w-1)},
		{name: "a mean of exactly half a frame rounds up",
			samples: append(repeatInts(1, w/2), repeatInts(0, w/2)...), want: []want{{w - 1, 1}}},
		{name: "a mean just under half a frame is no wait",
			samples: append(repeatInts(1, w/2-1), repeatInts(0, w/2+1)...)},
		{name: "a large lead is capped", samples: repeatInts(100, w), want: []want{{w - 1, maxTimeSyncWait}}},
		{name: "leads and lags average out",
			samples: append(repeatInts(6, w/2), repeatInts(-6, w/2)...)},
		{name: "a spike in one frame is spread over the window",
			samples: append(repeatInts(0, w-1), 2*w), want: []want{{w - 1, 2}}},
		{name: "no new wait while one runs; the next window starts afresh",
			samples: append(repeatInts(4, w), repeatInts(1, w)...), waiting: map[int]bool{w - 1: true},
			want: []want{{2*w - 1, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var aw advantageWindow
			var got []want
			for i, a := range tc.samples {
				if wait := aw.add(a, tc.waiting[i]); wait != 0 {
					got = append(got, want{i, wait})
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("waits asked for (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSharedAdvantage(t *testing.T) {
	for _, tc := range []struct {
		local, remote, want int
	}{
		{0, 0, 0},
		{4, -4, 4},  // both see us 4 ahead: we wait 4 frames while it plays 4
		{-4, 4, -4}, // we are behind: negative, never a wait
		{3, -2, 2},  // the views disagree: their mean, rounded toward zero
		{1, 0, 0},
	} {
		if got := sharedAdvantage(tc.local, tc.remote); got != tc.want {
			t.Errorf("sharedAdvantage(%d, %d) = %d, want %d", tc.local, tc.remote, got, tc.want)
		}
	}
}

func TestEstimateFrame(t *testing.T) {
	const fd = time.Second / 60
	for _, tc := range []struct {
		name         string
		reported     Frame
		elapsed, rtt time.Duration
		want         Frame
	}{
		{"fresh report, no latency", 100, 0, 0, 100},
		{"one frame later", 100, fd, 0, 101},
		{"just under a frame later", 100, fd - 1, 0, 100},
		{"half a round trip of 100 ms is 3 frames old", 100, 0, 100 * time.Millisecond, 103},
		{"both", 10, 10 * fd, 4 * fd, 22},
	} {
		if got := estimateFrame(tc.reported, tc.elapsed, tc.rtt, fd); got != tc.want {
			t.Errorf("%s: estimateFrame(%d, %v, %v) = %d, want %d", tc.name, tc.reported, tc.elapsed, tc.rtt, got, tc.want)
		}
	}
}
