//go:build linux

// Package netns builds small internets inside Linux network namespaces for process tests:
// a public segment (a bridge) that servers sit on, and hosts that reach it either directly or
// through a NAT router of a chosen kind, emulated with nftables as home, mobile and carrier
// routers behave. Each call to New makes its own namespaces (named after the test process and
// a counter), so topologies of parallel tests never meet; t.Cleanup deletes them, and with
// them every veth and rule inside.
//
// The addresses are the same in every topology, because namespaces do not share routing:
//
//	public segment 198.51.100.0/24 (bridge at 198.51.100.1, where servers listen)
//	host i behind a NAT: 10.0.i+1.2, its router 10.0.i+1.1 inside, 198.51.100.10*(i+1) outside
//	host i without a NAT: 198.51.100.10*(i+1) on the bridge itself
//
// Hosts have a default route (Chromium gathers no candidates without one); the public segment
// has a default route to a gateway nobody answers for, so a datagram to an address no one
// serves vanishes silently there as it would on a real server, instead of failing at once with
// "network unreachable".
//
// Code runs in a namespace in two ways: Command wraps a program in `ip netns exec`, and Do runs
// a function on an OS thread that has entered the namespace, so that sockets it opens belong
// there (they stay there when the function returns).
//
// It is for _test.go files: it needs root, iproute2 and nft, and Available says why not.
package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// NAT is the behaviour of a host's router towards the public segment.
type NAT int

const (
	// Direct puts the host on the public segment with no router: a server's view.
	Direct NAT = iota
	// FullCone maps every inside port to the same outside port for every destination and lets
	// anyone send to it (endpoint-independent mapping and filtering).
	FullCone
	// PortRestricted ("cone") maps endpoint-independently but lets in only what comes from an
	// address and port the host has sent to: the commonest home router.
	PortRestricted
	// Symmetric picks a new random outside port for every destination and filters like
	// PortRestricted: carrier-grade and corporate NATs. Two of these defeat hole punching.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case Direct:
		return "direct"
	case FullCone:
		return "full-cone"
	case PortRestricted:
		return "port-restricted"
	case Symmetric:
		return "symmetric"
	}
	return fmt.Sprintf("NAT(%d)", int(n))
}

// PublicAddr is the bridge's address on the public segment: where servers listen.
var PublicAddr = netip.MustParseAddr("198.51.100.1")

// unansweredGateway is the public segment's default gateway. A permanent neighbour entry
// with an address nobody owns makes datagrams to unroutable destinations vanish.
const (
	unansweredGateway    = "198.51.100.254"
	unansweredGatewayMAC = "02:00:00:00:00:fe"
)

// NS is one network namespace of a topology.
type NS struct {
	Name string     // for ip netns
	Addr netip.Addr // its address (a host's inside address behind a NAT)
}

// Host is a machine of the topology, with its router when it has one.
type Host struct {
	NS
	NAT    NAT
	Router string     // the router's namespace, "" for Direct
	WAN    netip.Addr // the address the public segment sees: the router's, or Addr
}

// Net is one topology.
type Net struct {
	Public NS // the segment servers sit on (the bridge's namespace)
	Hosts  []Host
	ip     string
	nft    string
}

// Available returns nil when namespaces can be made here, or why not: tests call t.Skip with
// it.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root (CI runs the tests as root)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("needs %s (iproute2, nftables): %w", tool, err)
		}
	}
	return nil
}

var topologies atomic.Int64

// New makes a public segment and one host per entry of nats, skipping the test when
// namespaces cannot be made here. Everything is removed when the test ends.
func New(t testing.TB, nats ...NAT) *Net {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	ipTool, _ := exec.LookPath("ip")
	nftTool, _ := exec.LookPath("nft")
	// Interface names are at most 15 bytes and must be unique in the root namespace while a
	// veth pair is made there, so the prefix is short: "n" + pid + topology counter.
	prefix := fmt.Sprintf("n%d%d", os.Getpid()%100000, topologies.Add(1)%100)
	n := &Net{Public: NS{Name: prefix + "pub", Addr: PublicAddr}, ip: ipTool, nft: nftTool}
	var made []string
	t.Cleanup(func() {
		for _, ns := range made {
			if err := n.run(n.ip, "netns", "del", ns); err != nil {
				t.Logf("netns cleanup: %v", err)
			}
		}
	})
	addNS := func(name string) {
		t.Helper()
		if err := n.run(n.ip, "netns", "add", name); err != nil {
			if len(made) == 0 {
				t.Skipf("cannot make a network namespace here: %v", err)
			}
			t.Fatal(err)
		}
		made = append(made, name)
		n.must(t, "-n", name, "link", "set", "lo", "up")
	}
	addNS(n.Public.Name)
	n.must(t, "-n", n.Public.Name, "link", "add", "br0", "type", "bridge")
	n.must(t, "-n", n.Public.Name, "addr", "add", PublicAddr.String()+"/24", "dev", "br0")
	n.must(t, "-n", n.Public.Name, "link", "set", "br0", "up")
	n.must(t, "-n", n.Public.Name, "neigh", "add", unansweredGateway, "lladdr", unansweredGatewayMAC, "dev", "br0", "nud", "permanent")
	n.must(t, "-n", n.Public.Name, "route", "add", "default", "via", unansweredGateway)

	for i, nat := range nats {
		wan := netip.AddrFrom4([4]byte{198, 51, 100, byte(10 * (i + 1))})
		h := Host{NAT: nat, WAN: wan}
		h.Name = fmt.Sprintf("%sh%d", prefix, i)
		addNS(h.Name)
		// The namespace whose "wan" side plugs into the bridge: the router, or the host.
		outside := h.Name
		if nat != Direct {
			h.Router = fmt.Sprintf("%sr%d", prefix, i)
			addNS(h.Router)
			outside = h.Router
		}
		wanVeth, brVeth := fmt.Sprintf("%sw%d", prefix, i), fmt.Sprintf("%sb%d", prefix, i)
		n.must(t, "link", "add", wanVeth, "netns", outside, "type", "veth", "peer", "name", brVeth, "netns", n.Public.Name)
		n.must(t, "-n", outside, "link", "set", wanVeth, "name", "wan")
		n.must(t, "-n", outside, "addr", "add", wan.String()+"/24", "dev", "wan")
		n.must(t, "-n", outside, "link", "set", "wan", "up")
		n.must(t, "-n", n.Public.Name, "link", "set", brVeth, "master", "br0", "up")
		if nat == Direct {
			h.Addr = wan
			n.must(t, "-n", h.Name, "route", "add", "default", "via", unansweredGateway)
			n.must(t, "-n", h.Name, "neigh", "add", unansweredGateway, "lladdr", unansweredGatewayMAC, "dev", "wan", "nud", "permanent")
			n.Hosts = append(n.Hosts, h)
			continue
		}
		inside := netip.AddrFrom4([4]byte{10, 0, byte(i + 1), 2})
		gw := netip.AddrFrom4([4]byte{10, 0, byte(i + 1), 1})
		h.Addr = inside
		lanVeth, hostVeth := fmt.Sprintf("%sl%d", prefix, i), fmt.Sprintf("%sv%d", prefix, i)
		n.must(t, "link", "add", lanVeth, "netns", h.Router, "type", "veth", "peer", "name", hostVeth, "netns", h.Name)
		n.must(t, "-n", h.Router, "link", "set", lanVeth, "name", "lan")
		n.must(t, "-n", h.Name, "link", "set", hostVeth, "name", "eth0")
		n.must(t, "-n", h.Router, "addr", "add", gw.String()+"/24", "dev", "lan")
		n.must(t, "-n", h.Name, "addr", "add", inside.String()+"/24", "dev", "eth0")
		n.must(t, "-n", h.Router, "link", "set", "lan", "up")
		n.must(t, "-n", h.Name, "link", "set", "eth0", "up")
		n.must(t, "-n", h.Name, "route", "add", "default", "via", gw.String())
		if err := n.run(n.ip, "netns", "exec", h.Router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"); err != nil {
			t.Fatal(err)
		}
		if err := n.nat(h); err != nil {
			t.Fatal(err)
		}
		n.Hosts = append(n.Hosts, h)
	}
	return n
}

// guard drops unsolicited datagrams addressed to the router itself. Without it a peer's
// first connectivity check that arrives before our own datagram to that peer becomes a
// conntrack entry to the router, and our mapping then clashes with it and masquerade picks
// another port, which breaks hole punching between two port-restricted NATs; a home
// router's firewall does the same.
const guard = `table ip guard {
	chain in { type filter hook input priority 0; iifname "wan" ct state new drop; }
}
`

// nat loads the router's rules for h.NAT.
func (n *Net) nat(h Host) error {
	var rules string
	switch h.NAT {
	case PortRestricted:
		rules = `table ip nat {
	chain post { type nat hook postrouting priority srcnat; oifname "wan" masquerade; }
}
` + guard
	case Symmetric:
		rules = `table ip nat {
	chain post { type nat hook postrouting priority srcnat; oifname "wan" masquerade fully-random; }
}
` + guard
	case FullCone:
		rules = fmt.Sprintf(`table ip nat {
	chain pre { type nat hook prerouting priority dstnat; iifname "wan" dnat to %s; }
	chain post { type nat hook postrouting priority srcnat; oifname "wan" snat to %s; }
}
`, h.Addr, h.WAN)
	default:
		return fmt.Errorf("netns: no rules for %v", h.NAT)
	}
	cmd := exec.Command(n.ip, "netns", "exec", h.Router, n.nft, "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s (%v): %w: %s", h.Router, h.NAT, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Cut drops every datagram between hosts i and j on the public segment, both ways, as a
// path that does not work yet; both still reach the servers and the other hosts. mend
// restores the path. A test cuts the direct path to make ICE open a link through the
// relay first, and mends it to see the link move to the direct path.
func (n *Net) Cut(i, j int) (mend func() error, err error) {
	a, b := n.Hosts[i].WAN, n.Hosts[j].WAN
	table := fmt.Sprintf("cut%d_%d", i, j)
	// The bridge's forward hook sees what one port of the segment sends to another, not
	// what reaches the servers on the bridge's own address.
	rules := fmt.Sprintf(`table bridge %s {
	chain drop_between { type filter hook forward priority 0; ip saddr %s ip daddr %s drop; ip saddr %s ip daddr %s drop; }
}
`, table, a, b, b, a)
	cmd := exec.Command(n.ip, "netns", "exec", n.Public.Name, n.nft, "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("netns: cutting hosts %d and %d: %w: %s", i, j, err, strings.TrimSpace(string(out)))
	}
	return func() error {
		_, err := n.Exec(n.Public.Name, n.nft, "delete", "table", "bridge", table)
		return err
	}, nil
}

// Command returns the program and arguments that run bin with args inside namespace ns.
func (n *Net) Command(ns, bin string, args ...string) (string, []string) {
	return n.ip, append([]string{"netns", "exec", ns, bin}, args...)
}

// Do runs f on an OS thread that has entered namespace ns; sockets f opens stay in ns after
// it returns. The thread is thrown away afterwards, so no other goroutine ever runs in ns.
func (n *Net) Do(ns string, f func() error) error {
	done := make(chan error, 1)
	go func() {
		// Never unlocked: when this goroutine ends, the runtime ends its thread too, rather
		// than hand a thread in the wrong namespace to other goroutines.
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("opening namespace %s: %w", ns, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		if cerr := unix.Close(fd); err == nil && cerr != nil {
			err = fmt.Errorf("closing namespace %s: %w", ns, cerr)
		}
		if err != nil {
			done <- fmt.Errorf("entering namespace %s: %w", ns, err)
			return
		}
		done <- f()
	}()
	return <-done
}

// Exec runs a command inside ns and returns its combined output.
func (n *Net) Exec(ns string, args ...string) (string, error) {
	out, err := exec.Command(n.ip, append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s: %w: %s", ns, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (n *Net) must(t testing.TB, args ...string) {
	t.Helper()
	if err := n.run(n.ip, args...); err != nil {
		t.Fatal(err)
	}
}

func (n *Net) run(tool string, args ...string) error {
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
