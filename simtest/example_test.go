package simtest_test

import (
	"fmt"
	"time"

	"p2pa/lockstep"
	"p2pa/simtest"
	"p2pa/transport"
)

// Two players over links of 40 ms each way with 5% loss play 600 frames; the harness
// compares their checksums at every frame both confirmed.
func ExampleRun() {
	rep, err := simtest.Run(simtest.Scenario{
		Seed:    1, // every scenario states its seed: a failure replays exactly
		Link:    transport.LinkConfig{Latency: 40 * time.Millisecond, Loss: 0.05},
		Session: lockstep.Config{InputSize: 1, Game: "mixer"},
		// mixer (simtest_test.go) is a small deterministic game whose state is its bytes.
		NewGame: func(player int, seed uint64) (lockstep.Game, error) { return &mixer{}, nil },
		Input: func(player int, f lockstep.Frame, dst []byte) []byte {
			return append(dst, byte(int(f)/(7+player))) // a new input every few frames
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("error:", rep.Err)
	fmt.Println("frame pairs compared:", rep.Compared > 550)
	for _, p := range rep.Peers {
		fmt.Println("player", p.Player, "ended at", p.Result.Frame, p.Result.Reason)
	}
	// Output:
	// error: <nil>
	// frame pairs compared: true
	// player 0 ended at 600 finished
	// player 1 ended at 600 finished
}

// Faults during a match, step by step: player 1's process dies at 3 s and a fresh one
// rejoins at 5 s, while every link loses 10% from 2 s to 6 s. The fresh process is handed
// the match's state; every process agrees at every frame it confirmed, the dead one up to
// the frame the match resumed from.
func ExampleSim_Step() {
	s, err := simtest.New(simtest.Scenario{
		Seed:        2,
		Frames:      900,
		Link:        transport.LinkConfig{Latency: 20 * time.Millisecond},
		LinkChanges: []simtest.LinkChange{{At: 2 * time.Second, Link: transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.10}}, {At: 6 * time.Second, Link: transport.LinkConfig{Latency: 20 * time.Millisecond}}},
		Rejoin:      10 * time.Second,
		Restarts:    []simtest.Restart{{Player: 1, At: 3 * time.Second, Back: 5 * time.Second}},
		Session:     lockstep.Config{InputSize: 1, Game: "mixer"},
		NewGame:     func(int, uint64) (lockstep.Game, error) { return &mixer{}, nil },
		Input:       func(player int, f lockstep.Frame, dst []byte) []byte { return append(dst, byte(int(f)/(7+player))) },
	})
	if err != nil {
		panic(err)
	}
	if err := s.Play(); err != nil { // Step until Finished, or MaxTime
		panic(err)
	}
	_, err = s.Compare()
	fmt.Println("checksums differ:", err)
	fresh := s.Peers[1]
	_, joined := fresh.JoinedAt()
	fmt.Println("player 1's process:", fresh.Life, "rejoined:", joined, "dead processes:", len(s.Dead))
	for _, p := range s.Peers {
		fmt.Println("player", p.Player, "ended at", p.Runner.Result().Frame, p.Runner.Result().Reason)
	}
	// Output:
	// checksums differ: <nil>
	// player 1's process: 1 rejoined: true dead processes: 1
	// player 0 ended at 900 finished
	// player 1 ended at 900 finished
}
