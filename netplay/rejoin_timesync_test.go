package netplay_test

import (
	"fmt"
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/transport"
)

// TestRejoinTimeSync: after player 0's process is killed and a fresh one rejoins, the two
// sides run level again. Within rejoinSettle of the rejoiner's leg starting, each side's
// frame advantage over the other stays within a frame and the two match frames (sampled
// between ticks) within a frame of each other; and the rejoin costs no extra rollbacks:
// both players' rollbacks per frame, added up, are after the rejoin at most what they were
// before it (plus slack). Added up, because which side predicts a frame depends on which
// ticks first: with no input delay and inputs that change every frame, the one that is
// ahead, however little, predicts every frame, and a rejoin may hand that role to the other
// side (a rejoiner that rolls back every frame while the survivor never does is not a
// fault; a rejoiner a frame or more ahead, or both sides predicting, would be). Seed 21;
// the links are perfect apart from their latency. (Advantages are sampled until the end
// frame: past it the sides only fold in late inputs, and their estimates of each other run
// on.)
func TestRejoinTimeSync(t *testing.T) {
	const (
		finish       = 1200
		killAt       = 5 * time.Second
		backAt       = 7 * time.Second
		rejoinSettle = 3 * time.Second
		slack        = 0.05 // rollbacks per frame, for the frames at the start of a leg
	)
	for _, lat := range []time.Duration{0, 2 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(fmt.Sprintf("latency %v", lat), func(t *testing.T) {
			m := newMatch(t, 2, 21, 0, transport.LinkConfig{Latency: lat}, finish)
			m.runUntil(killAt, func() bool { return m.clock.Now() >= killAt })
			beforeFrames := m.runners[1].Frame()
			var before int64
			for _, r := range m.runners {
				before += r.Session().Stats(nil).Rollbacks
			}
			survivorBefore := m.runners[1].Session().Stats(nil).Rollbacks
			m.kill(0)
			m.runUntil(backAt, func() bool { return m.clock.Now() >= backAt })
			m.start(0)
			rejoiner, survivor := m.runners[0], m.runners[1]
			var running time.Duration = -1 // when the rejoiner's leg started
			var worst string
			var rollbacks [2]int64 // each side's, in its last leg: Stats counts per session
			m.runUntil(backAt+60*time.Second, func() bool {
				now := m.clock.Now()
				if running < 0 && rejoiner.Session().Running() {
					running = now
				}
				for p, r := range m.runners {
					if !r.Done() {
						rollbacks[p] = r.Session().Stats(nil).Rollbacks
					}
				}
				if running >= 0 && now >= running+rejoinSettle && worst == "" &&
					rejoiner.Frame() < finish && survivor.Frame() < finish {
					a0 := rejoiner.Session().Stats(nil).Peers[0].LocalAdvantage
					a1 := survivor.Session().Stats(nil).Peers[0].LocalAdvantage
					gap := rejoiner.Frame() - survivor.Frame()
					if abs(a0) > 1 || abs(a1) > 1 || abs(int(gap)) > 1 {
						worst = fmt.Sprintf("at %v (%v after the rejoin): advantage %d (rejoiner) and %d (survivor), frames %d and %d",
							now, now-running, a0, a1, rejoiner.Frame(), survivor.Frame())
					}
				}
				return m.allDone()
			})
			m.checkFinished(false)
			if worst != "" {
				t.Errorf("the sides did not run level after the rejoin: %s", worst)
			}
			legFrames := lockstep.Frame(finish) - rejoiner.BaseFrame()
			after := rollbacks[0] + rollbacks[1]
			perBefore := float64(before) / float64(beforeFrames)
			perAfter := float64(after) / float64(legFrames)
			t.Logf("before the kill: %d rollbacks in %d frames (%.2f a frame); after the rejoin: %d+%d in %d (%.2f)",
				before, beforeFrames, perBefore, rollbacks[0], rollbacks[1], legFrames, perAfter)
			// The result line counts the whole match: the survivor's legs add up (its first
			// leg went on rolling back for a few frames between the kill and the pause).
			if res := survivor.Result(); res.Rollbacks < survivorBefore+rollbacks[1] {
				t.Errorf("the survivor's result counts %d rollbacks, its legs at least %d and %d", res.Rollbacks, survivorBefore, rollbacks[1])
			}
			if perAfter > perBefore+slack {
				t.Errorf("rollbacks after the rejoin: %.2f a frame (rejoiner %d, survivor %d in %d frames), before it %.2f",
					perAfter, rollbacks[0], rollbacks[1], legFrames, perBefore)
			}
		})
	}
}

func abs(v int) int { return max(v, -v) }
