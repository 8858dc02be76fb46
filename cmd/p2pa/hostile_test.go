package main

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// hostileJunk makes the flood: random bytes, p2pa messages with tags of no session here
// (input messages and goodbyes that parse, from an address that is no peer), and
// truncated messages. None is a complete handshake, which player 0 would take for player 1
// while it waits (it learns its peer's address from the first one).
func hostileJunk(rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	for i := range n {
		var d []byte
		tag := uint16(rng.Uint32()) | 1
		switch i % 3 {
		case 0:
			d = make([]byte, rng.IntN(600))
			for k := range d {
				d[k] = byte(rng.Uint32())
			}
		case 1:
			// An input message: start, ack delta, one unchanged input, then a goodbye.
			d = []byte{0xB7, 3, byte(tag), byte(tag >> 8)}
			d = binary.AppendUvarint(d, uint64(rng.IntN(600)))
			d = binary.AppendVarint(d, -1)
			d = append(d, 1, 0)
			if rng.IntN(4) == 0 {
				d = binary.AppendUvarint([]byte{0xB7, 4, byte(tag), byte(tag >> 8)}, uint64(rng.IntN(600)))
			}
		case 2:
			// A handshake or input message cut short.
			full := []byte{0xB7, byte(1 + rng.IntN(3)), byte(tag), byte(tag >> 8), 1, 1, 2, 3, 4, 1, 2, 5}
			d = full[:rng.IntN(len(full))]
		}
		out = append(out, d)
	}
	return out
}

// flood sends junk to addr at rate datagrams a second until stop is closed, and returns
// how many it sent.
func hostileFlood(t *testing.T, addr netip.AddrPort, rate int, stop <-chan struct{}) <-chan int {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	junk := hostileJunk(rand.New(rand.NewPCG(1, 2)), 4096)
	sent := make(chan int, 1)
	go func() {
		defer conn.Close()
		const every = 5 * time.Millisecond
		tick := time.NewTicker(every)
		defer tick.Stop()
		start := time.Now()
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			case <-tick.C:
			}
			// Catch up to the rate by the clock, so a late tick does not lower it.
			for due := int(time.Since(start) * time.Duration(rate) / time.Second); n < due; n++ {
				_, _ = conn.WriteToUDPAddrPort(junk[n%len(junk)], addr)
			}
		}
	}()
	return sent
}

var (
	hostileListening = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
	hostileResult    = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16})`)
	hostileDropped   = regexp.MustCompile(`msg=stats .*\bdropped=(\d+)`)
)

// TestFloodDoesNotStall plays two real headless processes on loopback for 600 frames while
// player 0's port takes 10,000 junk datagrams a second from another socket. Both must end
// with the same frame and checksum, exit 0, and keep to the frame rate: 600 frames at 60 a
// second are 10 s; the bound is 40 s.
func TestFloodDoesNotStall(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 10 s of real time")
	}
	bin := cliBinary(t)
	const frames, rate = 600, 10_000
	common := []string{"-headless", "-bot", "-frames", strconv.Itoa(frames), "-v"}
	p0 := proctest.Start(t, "player 0", bin, append([]string{"-p", "0", "-listen", "127.0.0.1:0"}, common...))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	m, err := p0.WaitLine(ctx, hostileListening)
	cancel()
	if errors.Is(err, proctest.ErrExited) {
		stdout, stderr := p0.Output()
		t.Fatalf("%v; stdout:\n%s\nstderr:\n%s", err, strings.Join(stdout, "\n"), stderr)
	} else if err != nil {
		t.Fatalf("%s: no line matching %q after %v", p0.Name(), hostileListening, 10*time.Second)
	}
	addr := netip.MustParseAddrPort(m[1])

	stop := make(chan struct{})
	sent := hostileFlood(t, addr, rate, stop)
	floodStart := time.Now()
	stopped := false
	stopFlood := func() int {
		if stopped {
			return 0
		}
		stopped = true
		close(stop)
		return <-sent
	}
	defer stopFlood()

	start := time.Now()
	p1 := proctest.Start(t, "player 1", bin, append([]string{"-p", "1", "-listen", "127.0.0.1:0", "-peer", addr.String()}, common...))
	timeout := time.After(90 * time.Second)
	for _, p := range []*proctest.Proc{p0, p1} {
		select {
		case <-p.Exited():
		case <-timeout:
			t.Fatalf("%s still running after 90 s", p.Name())
		}
	}
	elapsed := time.Since(start)
	n := stopFlood()
	floodRate := float64(n) / time.Since(floodStart).Seconds()
	t.Logf("both done in %v; flood: %d datagrams, %.0f a second", elapsed.Round(time.Millisecond), n, floodRate)
	if floodRate < rate/2 {
		t.Errorf("the flood managed only %.0f datagrams a second, want about %d", floodRate, rate)
	}

	var results [2][]string
	for i, p := range []*proctest.Proc{p0, p1} {
		stdout, stderr := p.Output()
		if p.Err() != nil {
			t.Errorf("%s: %v\nstdout:\n%s\nstderr (end):\n%s", p.Name(), p.Err(), strings.Join(stdout, "\n"), hostileTail(stderr, 20))
		}
		if len(stdout) == 0 {
			t.Fatalf("%s printed nothing", p.Name())
		}
		last := stdout[len(stdout)-1]
		m := hostileResult.FindStringSubmatch(last)
		if m == nil {
			t.Fatalf("%s: last line %q is not a result line", p.Name(), last)
		}
		results[i] = m[1:]
		t.Logf("%s: %s", p.Name(), last)
	}
	if results[0][0] != strconv.Itoa(frames) || results[0][0] != results[1][0] || results[0][1] != results[1][1] {
		t.Errorf("the players disagree: %v vs %v (want frame %d on both, one checksum)", results[0], results[1], frames)
	}
	if elapsed > 40*time.Second {
		t.Errorf("%d frames took %v under the flood; at 60 frames a second they take 10 s", frames, elapsed)
	}

	// With -v, player 0 logs its session's stats every second, drops included.
	_, stderr := p0.Output()
	var dropped []int
	for _, l := range strings.Split(stderr, "\n") {
		if m := hostileDropped.FindStringSubmatch(l); m != nil {
			v, _ := strconv.Atoi(m[1])
			dropped = append(dropped, v)
		}
	}
	// With -v a match logs its stats once a second (peer.Match.logStats), and this match
	// runs for about 10 s: no such line means the log lost the drop counters, a failure.
	if len(dropped) == 0 {
		t.Fatalf("player 0's -v log has no periodic stats line with dropped=N (want one a second); stderr:\n%s", hostileTail(stderr, 20))
	}
	if last := dropped[len(dropped)-1]; last < n/10 {
		t.Errorf("player 0's last stats line counts %d dropped datagrams of the %d sent", last, n)
	} else {
		t.Logf("player 0's stats: %d dropped (of %d sent; the rest arrived after its last stats line or overflowed the socket queue)", last, n)
	}
}

// hostileTail is the last n lines of s.
func hostileTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
