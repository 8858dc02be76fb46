//go:build linux

package netns_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"p2pa/internal/netns"
)

// reflectorPorts are three ports on the public address that answer each datagram with the
// sender's address as they saw it; the host contacts the first two, never the third.
var reflectorPorts = []int{3478, 3479, 3480}

// TestNATBehaviour checks that each kind of router maps and filters as its doc says, the way
// a STUN classifier would: the outside address for two destinations (one mapping, or one per
// destination), and whether a datagram from a port the host never sent to gets in.
func TestNATBehaviour(t *testing.T) {
	kinds := []netns.NAT{netns.Direct, netns.FullCone, netns.PortRestricted, netns.Symmetric}
	n := netns.New(t, kinds...)

	reflectors := make([]*net.UDPConn, len(reflectorPorts))
	for i, port := range reflectorPorts {
		err := n.Do(n.Public.Name, func() error {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: netns.PublicAddr.AsSlice(), Port: port})
			reflectors[i] = c
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = reflectors[i].Close() })
		go reflect(reflectors[i])
	}

	for i, h := range n.Hosts {
		t.Run(h.NAT.String(), func(t *testing.T) {
			var c *net.UDPConn
			if err := n.Do(h.Name, func() (err error) {
				c, err = net.ListenUDP("udp4", nil)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			mapped := make([]netip.AddrPort, 2)
			for j := range mapped {
				to := netip.AddrPortFrom(netns.PublicAddr, uint16(reflectorPorts[j]))
				got, err := ask(c, to)
				if err != nil {
					t.Fatalf("asking %v: %v", to, err)
				}
				if got.Addr() != h.WAN {
					t.Errorf("seen from %v as %v, want the address %v", to, got, h.WAN)
				}
				mapped[j] = got
			}
			sameMapping := mapped[0] == mapped[1]
			if wantSame := h.NAT != netns.Symmetric; sameMapping != wantSame {
				t.Errorf("mappings for two destinations %v and %v: same=%v, want %v", mapped[0], mapped[1], sameMapping, wantSame)
			}

			// A probe from the port never contacted, then a marker from one contacted: the
			// marker always gets in; the probe only through an open filter. One path, so
			// the probe, if let in, comes first.
			if _, err := reflectors[2].WriteToUDPAddrPort([]byte("probe"), mapped[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := reflectors[0].WriteToUDPAddrPort([]byte("marker"), mapped[0]); err != nil {
				t.Fatal(err)
			}
			probeIn := false
			buf := make([]byte, 64)
			for {
				if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				k, err := c.Read(buf)
				if err != nil {
					t.Fatalf("the marker never came: %v", err)
				}
				if string(buf[:k]) == "probe" {
					probeIn = true
				}
				if string(buf[:k]) == "marker" {
					break
				}
			}
			if wantIn := h.NAT == netns.Direct || h.NAT == netns.FullCone; probeIn != wantIn {
				t.Errorf("host %d (%v): an unsolicited datagram got in: %v, want %v", i, h.NAT, probeIn, wantIn)
			}
		})
	}
}

// reflect answers every datagram with its sender's address until c is closed.
func reflect(c *net.UDPConn) {
	buf := make([]byte, 64)
	for {
		_, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if _, err := c.WriteToUDPAddrPort([]byte(from.String()), from); err != nil {
			return
		}
	}
}

// ask sends a datagram to a reflector and returns the address it saw, retrying on loss.
func ask(c *net.UDPConn, to netip.AddrPort) (netip.AddrPort, error) {
	buf := make([]byte, 64)
	for try := 0; try < 20; try++ {
		if _, err := c.WriteToUDPAddrPort([]byte("who"), to); err != nil {
			return netip.AddrPort{}, fmt.Errorf("sending: %w", err)
		}
		if err := c.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
			return netip.AddrPort{}, err
		}
		k, from, err := c.ReadFromUDPAddrPort(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			return netip.AddrPort{}, err
		}
		if from != to {
			continue
		}
		return netip.ParseAddrPort(strings.TrimSpace(string(buf[:k])))
	}
	return netip.AddrPort{}, errors.New("no answer")
}

// TestCut: a cut between two hosts drops what one sends the other, while both still reach
// the public segment's servers; mended, the datagrams get through again.
func TestCut(t *testing.T) {
	n := netns.New(t, netns.Direct, netns.Direct)
	listen := func(h int, addr netip.Addr, port int) *net.UDPConn {
		t.Helper()
		var c *net.UDPConn
		if err := n.Do(n.Hosts[h].Name, func() (err error) {
			c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: addr.AsSlice(), Port: port})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	var reflector *net.UDPConn
	if err := n.Do(n.Public.Name, func() (err error) {
		reflector, err = net.ListenUDP("udp4", &net.UDPAddr{IP: netns.PublicAddr.AsSlice(), Port: reflectorPorts[0]})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reflector.Close() })
	go reflect(reflector)
	c0 := listen(0, n.Hosts[0].WAN, 0)
	echo := listen(1, n.Hosts[1].WAN, 4000)
	go reflect(echo)
	to := netip.AddrPortFrom(n.Hosts[1].WAN, 4000)
	if _, err := ask(c0, to); err != nil {
		t.Fatalf("before the cut, host 1: %v", err)
	}
	mend, err := n.Cut(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ask(c0, to); err == nil {
		t.Fatalf("through the cut, host 1 answered (saw %v)", got)
	}
	if _, err := ask(c0, netip.AddrPortFrom(netns.PublicAddr, uint16(reflectorPorts[0]))); err != nil {
		t.Fatalf("during the cut, the public segment's server: %v", err)
	}
	if err := mend(); err != nil {
		t.Fatal(err)
	}
	if _, err := ask(c0, to); err != nil {
		t.Fatalf("after mending, host 1: %v", err)
	}
}
