package pong_test

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"p2pa/examples/pong"
	"p2pa/lockstep"
	"p2pa/lockstep/synctest"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

// A sync test rolls back every frame and compares checksums: Pong is deterministic and
// its save holds everything.
func TestSyncTest(t *testing.T) {
	test, err := synctest.New(lockstep.Config{Players: 2, InputSize: pong.InputSize}, 6)
	if err != nil {
		t.Fatal(err)
	}
	g := pong.New(42)
	var in []byte
	for f := range lockstep.Frame(2000) {
		for p := range 2 {
			in = pong.Bot(p, f, in[:0])
			if err := test.AddLocalInput(p, in); err != nil {
				t.Fatal(err)
			}
		}
		reqs, err := test.AdvanceFrame()
		if err != nil {
			t.Fatal(err)
		}
		if err := lockstep.Apply(g, reqs); err != nil {
			t.Fatal(err)
		}
	}
	if err := test.Verify(); err != nil {
		t.Fatal(err)
	}
	if g.Score[0]+g.Score[1] == 0 {
		t.Fatal("2000 frames without a point: the ball never reaches a goal")
	}
}

// 3,000 frames over a link of 60 ms each way (a 120 ms round trip), ±5 ms of jitter and 5%
// loss each way: every confirmed frame agrees.
func TestOverLossyLink(t *testing.T) {
	frames := 3000
	if testing.Short() {
		frames = 600
	}
	rep, err := simtest.Run(simtest.Scenario{
		Frames: frames, Seed: 60,
		Link:    transport.LinkConfig{Latency: 60 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05},
		Session: lockstep.Config{InputSize: pong.InputSize, Game: "pong"},
		NewGame: func(_ int, seed uint64) (lockstep.Game, error) { return pong.New(seed), nil },
		Input:   pong.Bot,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	a, b := rep.Peers[0].Result, rep.Peers[1].Result
	if a.Frame != lockstep.Frame(frames) || a.Checksum != b.Checksum || b.Frame != a.Frame {
		t.Fatalf("results %v and %v", a, b)
	}
}

// A real headless match over loopback UDP through netplay.Runner.Run.
func TestUDPMatch(t *testing.T) {
	var conns [2]*transport.UDP
	for p := range conns {
		c, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[p] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clock := transport.NewRealClock()
	results := make(chan netplay.Result, 2)
	for p := range 2 {
		r, err := netplay.New(netplay.Config{
			Session: lockstep.Config{InputSize: pong.InputSize, Game: "pong", Seed: 9, Nonce: uint64(p + 1)},
			Player:  p, Peers: []netip.AddrPort{conns[0].LocalAddr(), {}}, Conn: conns[p], Clock: clock,
			NewGame:  func(seed uint64) (lockstep.Game, error) { return pong.New(seed), nil },
			Input:    func(f lockstep.Frame, dst []byte) []byte { return pong.Bot(p, f, dst) },
			FinishAt: 120,
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			res, _ := r.Run(ctx)
			results <- res
		}()
	}
	a, b := <-results, <-results
	if a.Reason != netplay.EndFinished || b.Reason != netplay.EndFinished || a.Frame != 120 || a.Checksum != b.Checksum {
		t.Fatalf("results %v and %v", a, b)
	}
}

// The example is a user's game: it depends on no internal package and not on the coin game.
// Internal packages that the public packages themselves use (a leaf like internal/xxh64
// under lockstep) come with them, as they would into any user's module.
func TestOnlyPublicDependencies(t *testing.T) {
	deps := func(args ...string) []string {
		args = append([]string{"list", "-deps"}, args...)
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
		return strings.Fields(string(out))
	}
	public := map[string]bool{}
	// Their own dependencies, not their tests'.
	for _, pkg := range deps("p2pa/lockstep", "p2pa/netplay", "p2pa/simtest", "p2pa/transport") {
		public[pkg] = true
	}
	for _, pkg := range deps("-test", "p2pa/examples/pong/...") {
		internal := strings.HasPrefix(pkg, "p2pa/internal") && !public[strings.TrimSuffix(pkg, ".test")]
		if internal || pkg == "p2pa/game" || strings.HasPrefix(pkg, "p2pa/game/") {
			t.Errorf("examples/pong depends on %s", pkg)
		}
	}
}
