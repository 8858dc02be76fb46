package rtc

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// counter is a minimal deterministic game: a running mix of every player's input byte.
type counter struct{ frame, total uint64 }

func (c *counter) AdvanceFrame(inputs []byte) {
	c.frame++
	for _, b := range inputs {
		c.total = c.total*31 + uint64(b) + 1
	}
}

func (c *counter) SaveState(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, c.frame)
	return binary.LittleEndian.AppendUint64(dst, c.total)
}

func (c *counter) LoadState(b []byte) error {
	if len(b) != 16 {
		return errors.New("counter: bad state")
	}
	c.frame, c.total = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return nil
}

// An unchanged netplay.Runner plays a match over two rtc Conns: player 1 joins and offers
// (the newcomer's rule), player 0 learns player 1's address from the handshake as over UDP,
// and both finish with the same checksum.
func TestRunnerMatch(t *testing.T) {
	for _, kind := range []LinkKind{LinkAuto, LinkDataChannel} {
		t.Run(kind.String(), func(t *testing.T) {
			h := newHub()
			ms := []member{newMember(t, h, "player0", Config{Link: kind}), newMember(t, h, "player1", Config{Link: kind})}
			defer func() {
				for _, m := range ms {
					if err := m.c.Close(); err != nil {
						t.Error(err)
					}
				}
				for _, err := range h.close() {
					t.Error(err)
				}
			}()
			playMatch(t, ms[0].c, ms[1].c, 120)
		})
	}
}

// playMatch has p1 connect to p0 and plays a match of frames frames of the counter game
// between them with two netplay.Runners; it fails the test unless both finish confirmed
// with the same checksum.
func playMatch(t *testing.T, p0, p1 *Conn, frames lockstep.Frame) {
	t.Helper()
	if err := p1.Connect(p0.cfg.Member); err != nil {
		t.Fatal(err)
	}
	clock := transport.NewRealClock()
	type outcome struct {
		res netplay.Result
		err error
	}
	done := make(chan outcome, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for p, c := range []*Conn{p0, p1} {
		peers := make([]netip.AddrPort, 2)
		if p == 1 {
			peers[0] = p0.LocalAddr()
		}
		r, err := netplay.New(netplay.Config{
			Session:  lockstep.Config{InputSize: 1, Game: "counter", Seed: 7, Nonce: uint64(p + 1)},
			Player:   p,
			Peers:    peers,
			Conn:     c,
			Clock:    clock,
			Game:     &counter{},
			Input:    func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(int(f)*(p+3)/16)) },
			FinishAt: frames,
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			res, err := r.Run(ctx)
			done <- outcome{res, err}
		}()
	}
	a, b := <-done, <-done
	for _, o := range []outcome{a, b} {
		if o.err != nil || !o.res.Confirmed || o.res.Frame != frames {
			t.Fatalf("results %v (%v) / %v (%v)", a.res, a.err, b.res, b.err)
		}
	}
	if a.res.Checksum != b.res.Checksum {
		t.Fatalf("checksums differ: %v / %v", a.res, b.res)
	}
	info, _ := p0.LinkInfo(p1.cfg.Member)
	t.Logf("%v; link %s %s %s/%s relay=%q", a.res, info.Kind, info.Path, info.Local, info.Remote, info.Relay)
}
