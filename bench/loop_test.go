package bench

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"p2pa/internal/peer"
)

// loopPeers starts two real headless matches on loopback sockets (player 1 joins player 0),
// as p2pa -headless does, and runs each one's Serve loop in its own goroutine until both
// have played frames frames (neither closes before, so neither sees the other leave). onFrame, if set, is called in that loop with the player, the frame
// and the time each new frame was seen played. It returns when both loops have stopped and
// both matches are closed.
func loopPeers(tb testing.TB, frames int, onFrame func(player, frame int, at time.Time)) {
	tb.Helper()
	var ms [2]*peer.Match
	for p := range 2 {
		args := []string{"-headless", "-p", fmt.Sprint(p), "-listen", "127.0.0.1:0", "-seed", "1"}
		if p == 1 {
			args = append(args, "-peer", ms[0].Status().LocalAddr)
		}
		o, err := peer.ParseFlags("p2pa", args, io.Discard)
		if err != nil {
			tb.Fatal(err)
		}
		if ms[p], err = peer.Start(o, io.Discard); err != nil {
			tb.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	var played [2]atomic.Int64
	for p, m := range ms {
		wg.Go(func() {
			seen := 0
			deadline := time.Now().Add(10*time.Second + time.Duration(frames)*frameTime)
			m.Serve(nil, func() bool {
				if st := m.State(); st != nil && int(st.Frame()) > seen {
					seen = int(st.Frame())
					played[p].Store(int64(seen))
					if onFrame != nil {
						onFrame(p, seen, time.Now())
					}
				}
				if time.Now().After(deadline) {
					errs[p] = fmt.Errorf("player %d: %d of %d frames played before the deadline", p, seen, frames)
					return true
				}
				return min(played[0].Load(), played[1].Load()) >= int64(frames)
			})
			if m.Done() {
				errs[p] = fmt.Errorf("player %d: the match ended at frame %d, before frame %d", p, seen, frames)
			}
		})
	}
	wg.Wait()
	for _, m := range ms {
		m.Quit()
		_ = m.Close() // the match is cut short on purpose; the goodbye is all that matters
	}
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkFirstFrame is how soon two real peers on loopback play: from the moment player 0
// starts (both sockets bound, as when both processes are up) to the moment both have
// advanced their first frame, through the loop p2pa -headless runs (peer.Match.Serve, which
// is netplay.Runner.RunWith).
//
//	first-frame-ms   mean, start to the later peer's first frame
func BenchmarkFirstFrame(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		var mu sync.Mutex
		var last time.Time
		loopPeers(b, 1, func(_, _ int, at time.Time) {
			mu.Lock()
			if at.After(last) {
				last = at
			}
			mu.Unlock()
		})
		total += last.Sub(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "first-frame-ms")
}

// jitterFrames is how many frames BenchmarkFrameJitter plays: five seconds, 600 samples
// over the two peers; longer runs would make `make bench` (six counts) too slow.
const jitterFrames = 300

// BenchmarkFrameJitter is how evenly the real-clock headless loop paces its frames: two
// peers on loopback play jitterFrames frames, and each peer's frame start times are set
// against the 60 Hz grid that starts at its first frame.
//
//	frame-jitter-ms   p99 over both peers' frames of the distance from a frame's start to
//	                  the nearest grid point: the loop's own pacing (timer and scheduling)
//	skipped/min       grid slots with no frame, per minute of play: ticks time sync spent
//	                  waiting (or the loop missed), each a visible 16.67 ms stutter
//
// The two are apart because a skipped tick moves every later frame a whole slot: measured
// against "frame k at slot k" the waits would swamp the pacing figure, and the pacing
// would hide how often the waits happen.
func BenchmarkFrameJitter(b *testing.B) {
	var devs []time.Duration
	skipped := 0
	var played time.Duration
	for b.Loop() {
		var first, last [2]time.Time
		var slot [2]int64
		var mu sync.Mutex
		loopPeers(b, jitterFrames, func(p, f int, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			if f == 1 {
				first[p], last[p] = at, at
				return
			}
			since := at.Sub(first[p])
			n := (since + frameTime/2) / frameTime // the nearest grid point
			d := since - n*frameTime
			devs = append(devs, max(d, -d))
			skipped += max(0, int(int64(n)-slot[p]-1))
			slot[p] = int64(n)
			last[p] = at
		})
		played += last[0].Sub(first[0]) + last[1].Sub(first[1])
	}
	slices.Sort(devs)
	b.Logf("distance to the grid: p50 %v, p90 %v, p99 %v, max %v; %d slots skipped", percentile(devs, 50), percentile(devs, 90), percentile(devs, 99), devs[len(devs)-1], skipped)
	b.ReportMetric(float64(percentile(devs, 99).Microseconds())/1000, "frame-jitter-ms")
	b.ReportMetric(float64(skipped)/played.Minutes(), "skipped/min")
}
