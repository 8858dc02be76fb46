package netplay

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
	"p2pa/transport"
)

// failingReader stands in for crypto/rand when it fails.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func newTestRunner(t *testing.T, player int, sc lockstep.Config) (*Runner, error) {
	t.Helper()
	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1)
	conn, err := network.Listen(netip.MustParseAddrPort("10.0.0.1:7000"))
	if err != nil {
		t.Fatal(err)
	}
	peers := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.9:7000"), {}}
	return New(Config{Session: sc, Player: player, Peers: peers, Conn: conn, Clock: clock, Game: idle{}})
}

// idle is a game these tests never advance.
type idle struct{}

func (idle) AdvanceFrame([]byte)          {}
func (idle) SaveState(dst []byte) []byte  { return dst }
func (idle) LoadState(state []byte) error { return nil }

// TestNewFillsRandomness: a zero Nonce becomes a random one on every player; a zero Seed a
// random one only where the handshake carries it (player 0, the seed not
// chosen by the user). Whatever was set is kept.
func TestNewFillsRandomness(t *testing.T) {
	tests := []struct {
		name                string
		player              int
		in                  lockstep.Config
		nonceSet, seedSet   bool // filled at random
		wantNonce, wantSeed uint64
	}{
		{name: "player 0, zero config", player: 0, in: lockstep.Config{}, nonceSet: true, seedSet: true},
		{name: "player 1, zero config: its seed is never used", player: 1, in: lockstep.Config{}, nonceSet: true},
		{name: "player 0, seed 0 chosen by the user", player: 0, in: lockstep.Config{SeedGiven: true}, nonceSet: true},
		{name: "given values are kept", player: 0, in: lockstep.Config{Nonce: 5, Seed: 9}, wantNonce: 5, wantSeed: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.InputSize = 1
			var got [2]lockstep.Config
			for i := range got {
				r, err := newTestRunner(t, tt.player, tt.in)
				if err != nil {
					t.Fatal(err)
				}
				got[i] = r.cfg.Session
			}
			for _, c := range []struct {
				what       string
				a, b, want uint64
				random     bool
			}{
				{"nonce", got[0].Nonce, got[1].Nonce, tt.wantNonce, tt.nonceSet},
				{"seed", got[0].Seed, got[1].Seed, tt.wantSeed, tt.seedSet},
			} {
				switch {
				case c.random && (c.a == 0 || c.a == c.b):
					t.Errorf("%s: two runners got %#x and %#x, want two different random values", c.what, c.a, c.b)
				case !c.random && (c.a != c.want || c.b != c.want):
					t.Errorf("%s: two runners got %#x and %#x, want %#x", c.what, c.a, c.b, c.want)
				}
			}
		})
	}
}

// TestNewRandomFailure: when the system's random source fails, New says so and makes no
// runner with a predictable nonce.
func TestNewRandomFailure(t *testing.T) {
	broken := errors.New("no entropy")
	saved := random
	random = failingReader{broken}
	t.Cleanup(func() { random = saved })
	tests := []struct {
		name    string
		in      lockstep.Config
		wantErr string
	}{
		{"nonce", lockstep.Config{InputSize: 1, Seed: 3}, "netplay: a random nonce: no entropy"},
		{"seed", lockstep.Config{InputSize: 1, Nonce: 3}, "netplay: a random seed: no entropy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newTestRunner(t, 0, tt.in)
			if r != nil || !errors.Is(err, broken) {
				t.Fatalf("New = %v, %v; want no runner and an error wrapping %v", r, err, broken)
			}
			if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
