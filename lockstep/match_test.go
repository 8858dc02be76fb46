package lockstep

import (
	"bytes"
	"testing"
	"time"
)

// TestNextLegConfig: the Config that Match.NextLeg makes resumes the match from the current
// leg's state at the frame asked for, with the match's seed (player 0's, not the one a
// joiner was configured with), without spectators, and otherwise as the runner's cfg; the
// connected peer is expected where it is. A session opens on it.
func TestNextLegConfig(t *testing.T) {
	tn := newNet(t, 2, tick, func(p int) Config { return Config{Seed: uint64(50 + p), Game: "g"} })
	tn.until(time.Second, "the handshake", tn.running)
	tn.steps(30)
	joiner := tn.nodes[1].s
	m := NewMatch(joiner)
	from := joiner.ConfirmedFrame()
	state, ok := joiner.SavedState(from)
	if !ok || from < 10 {
		t.Fatalf("confirmed frame %d, saved state held %v", from, ok)
	}
	runner := Config{Players: 2, InputSize: 3, Seed: 51, Game: "g", Spectators: 2, Nonce: 99}
	next, peers := m.NextLeg(runner, from, state, nil)
	switch r := next.resume; {
	case r == nil:
		t.Fatal("the next leg's Config resumes nothing")
	case r.frame != m.MatchFrame(from) || r.match != joiner.matchID || !bytes.Equal(r.state, state):
		t.Errorf("resumes match %x at frame %d (%d bytes), want match %x at %d (%d bytes)", r.match, r.frame, len(r.state), joiner.matchID, from, len(state))
	}
	if next.Seed != 50 || next.Spectators != 0 || next.Nonce != 99 || next.Game != "g" {
		t.Errorf("seed %d, spectators %d, nonce %d, game %q; want the match's seed 50, none, and the runner's 99 and g", next.Seed, next.Spectators, next.Nonce, next.Game)
	}
	if peers[0] != nodeAddr(0) || peers[1].IsValid() {
		t.Errorf("peers %v, want player 0 at %v and nothing for ourselves", peers, nodeAddr(0))
	}
	if _, err := NewSession(next, 1, peers); err != nil {
		t.Errorf("a session on the next leg's Config: %v", err)
	}
}
