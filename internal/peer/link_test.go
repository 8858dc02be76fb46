package peer

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/transport"
)

// TestStartLink plays a whole match of two bots over Links (endpoints of the emulator on a
// virtual clock), as a browser page plays over a room's connection: no socket is opened,
// and both ends finish on the same result line but for their own rollbacks and RTT.
func TestStartLink(t *testing.T) {
	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1)
	a0, a1 := netip.MustParseAddrPort("10.0.0.1:7000"), netip.MustParseAddrPort("10.0.0.2:7000")
	c0, err := network.Listen(a0)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := network.Listen(a1)
	if err != nil {
		t.Fatal(err)
	}
	network.SetLink(a0, a1, transport.LinkConfig{Latency: 20 * time.Millisecond})
	network.SetLink(a1, a0, transport.LinkConfig{Latency: 20 * time.Millisecond})
	opts := func(player int) Options {
		o, err := ParseFlags("test", []string{"-p", fmt.Sprint(player), "-bot", "-seed", "7", "-frames", "300", "-headless"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	var out0, out1 strings.Builder
	m0, err := StartLink(opts(0), Link{Conn: c0, Name: "the emulator", Clock: clock}, &out0)
	if err != nil {
		t.Fatal(err)
	}
	m1, err := StartLink(opts(1), Link{Conn: c1, Host: a0, Name: "the emulator", Clock: clock}, &out1)
	if err != nil {
		t.Fatal(err)
	}
	if m0.Readable() != nil {
		t.Error("Readable: an emulator endpoint cannot signal, want nil (read by Tick)")
	}
	for i := 0; i < 60*60 && !(m0.Done() && m1.Done()); i++ {
		m0.Tick(game.Input{})
		m1.Tick(game.Input{})
		clock.Advance(time.Second / 60)
	}
	if err := errors.Join(m0.Close(), m1.Close()); err != nil {
		t.Fatalf("close: %v\nplayer 0:\n%s\nplayer 1:\n%s", err, &out0, &out1)
	}
	last := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		f := strings.Fields(lines[len(lines)-1])
		return strings.Join(f[:2], " ") // frame and checksum; rollbacks and RTT are each end's own
	}
	if l0, l1 := last(out0.String()), last(out1.String()); l0 != l1 || !strings.HasPrefix(l0, "frame=300 checksum=") {
		t.Errorf("result lines %q and %q: want the same, at frame 300\nplayer 0:\n%s\nplayer 1:\n%s", l0, l1, &out0, &out1)
	}
	t.Logf("player 0:\n%s", &out0)
	if !strings.Contains(out0.String(), "in the emulator") {
		t.Errorf("player 0's banner does not say where it plays:\n%s", &out0)
	}
}

func TestStartLinkErrors(t *testing.T) {
	conn, err := transport.NewNetwork(transport.NewVirtualClock(0), 1).Listen(netip.MustParseAddrPort("10.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	joiner := defaultOptions()
	joiner.Player = 1
	for _, tc := range []struct {
		name string
		opts Options
		link Link
		want string
	}{
		{"no conn", defaultOptions(), Link{}, "no connection"},
		{"joiner without a host", joiner, Link{Conn: conn}, "names no player 0"},
	} {
		if _, err := StartLink(tc.opts, tc.link, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: StartLink = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
