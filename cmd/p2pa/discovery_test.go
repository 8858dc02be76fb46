package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// testLocalPort is the variable that points a joining player's local fallback at the
// test's port instead of 7000 and keeps it off the machine's network (no multicast).
const testLocalPort = "P2PA_TEST_LOCAL_PORT"

// agreeAt checks that both players exited 0 with result lines at frame frames and the same
// checksum.
func agreeAt(t *testing.T, frames string, ps ...*proctest.Proc) {
	t.Helper()
	var sums []string
	for i, p := range ps {
		if p.ExitCode() != 0 {
			t.Fatalf("player %d: %v", i, p)
		}
		m := cliResultLine.FindStringSubmatch(p.LastLine())
		if m == nil {
			t.Fatalf("player %d: last line %q is not a result line\n%v", i, p.LastLine(), p)
		}
		if m[1] != frames {
			t.Errorf("player %d ended at frame %s, want %s", i, m[1], frames)
		}
		sums = append(sums, m[2])
		t.Logf("player %d: %s", i, p.LastLine())
	}
	if sums[0] != sums[1] {
		t.Errorf("the players disagree: checksums %v", sums)
	}
}

// TestJoinWithoutAddressOnThisMachine: `p2pa -p 1` with no -peer finds a player 0 on this
// machine (loopback has no multicast; the local fallback finds it) and both agree.
func TestJoinWithoutAddressOnThisMachine(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			var p0 *proctest.Proc
			var addr, port string
			for attempt := 0; ; attempt++ {
				port = strconv.Itoa(proctest.FreeUDPPort(t))
				addr = net.JoinHostPort(host, port)
				p0 = cliStart(t, 60*time.Second, nil, "-listen", addr, "-headless", "-bot", "-frames", "600")
				if _, err := p0.WaitLine(t.Context(), proctest.Substring("waiting for player 1")); err != nil {
					if host == "::1" && strings.Contains(cliStderr(p0), "cannot assign") {
						t.Skipf("no IPv6 loopback here: %v", p0)
					}
					if p0.ExitCode() == 2 && strings.Contains(cliStderr(p0), "in use") && attempt < 5 {
						continue // the port was taken meanwhile
					}
					t.Fatalf("player 0 did not start: %v", p0)
				}
				break
			}
			p1 := cliStart(t, 60*time.Second, []string{testLocalPort + "=" + port}, "-p", "1", "-headless", "-bot", "-frames", "600")
			<-p0.Exited()
			<-p1.Exited()
			agreeAt(t, "600", p0, p1)
			if out := cliStdout(p0); strings.Contains(out, "advertising") {
				t.Errorf("player 0 on loopback advertised:\n%s", out)
			}
			want := fmt.Sprintf("p2pa: found player 0 on this machine at %s; joining", addr)
			if !strings.Contains(cliStdout(p1), want) {
				t.Errorf("player 1 did not say %q:\n%s", want, cliStdout(p1))
			}
		})
	}
}

// TestJoinWithoutAddressKeepsLooking: with nobody anywhere, a joining player says it is
// still looking rather than hang silently, and goes on (it is stopped by the test).
func TestJoinWithoutAddressKeepsLooking(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits for the first 'still looking' message (5 s)")
	}
	t.Parallel()
	port := proctest.FreeUDPPort(t) // nobody listens there
	p := cliStart(t, 60*time.Second, []string{testLocalPort + "=" + strconv.Itoa(port)}, "-p", "1", "-headless", "-bot")
	if _, err := p.WaitLine(t.Context(), regexp.MustCompile(`^p2pa: no game on this network or on this machine after \d+s; still looking`)); err != nil {
		t.Fatalf("no 'still looking' line: %v\n%v", err, p)
	}
	select {
	case <-p.Exited():
		t.Fatalf("it gave up instead of looking on: %v", p)
	default:
	}
}

// TestDiscoveryAcrossNamespaces: two network namespaces joined by a veth pair with
// multicast on; player 0 listens on :7000 in one and advertises; `p2pa -p 1` in the other
// finds it by multicast DNS alone (nothing listens on its own loopback) and both agree;
// once the match is full it is no longer advertised.
func TestDiscoveryAcrossNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make network namespaces (CI runs it as root)")
	}
	ipTool, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip tool (iproute2) to make network namespaces")
	}
	ip := func(args ...string) error {
		out, err := exec.Command(ipTool, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	id := fmt.Sprintf("p2pad%d", os.Getpid()%100000)
	nsA, nsB := id+"a", id+"b"
	vethA, vethB := id+"va", id+"vb"
	t.Cleanup(func() {
		// Deleting a namespace deletes the veth end in it, and so the pair.
		for _, ns := range []string{nsA, nsB} {
			if err := ip("netns", "del", ns); err != nil && !strings.Contains(err.Error(), "No such file") {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	if err := ip("netns", "add", nsA); err != nil {
		t.Skipf("cannot make a network namespace here: %v", err)
	}
	subnet := fmt.Sprintf("10.%d.%d", 200+os.Getpid()%50, os.Getpid()%250)
	addrA := subnet + ".1"
	for _, cmd := range [][]string{
		{"netns", "add", nsB},
		{"link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB, "netns", nsB},
		{"-n", nsA, "addr", "add", addrA + "/24", "dev", vethA},
		{"-n", nsB, "addr", "add", subnet + ".2/24", "dev", vethB},
		{"-n", nsA, "link", "set", vethA, "multicast", "on", "up"},
		{"-n", nsB, "link", "set", vethB, "multicast", "on", "up"},
		{"-n", nsA, "link", "set", "lo", "up"},
		{"-n", nsB, "link", "set", "lo", "up"},
		// No default route in a fresh namespace: multicast needs one of its own.
		{"-n", nsA, "route", "add", "224.0.0.0/4", "dev", vethA},
		{"-n", nsB, "route", "add", "224.0.0.0/4", "dev", vethB},
	} {
		if err := ip(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	bin := cliBinary(t)
	inNS := func(name, ns string, args ...string) *proctest.Proc {
		return proctest.Start(t, name, ipTool, append([]string{"netns", "exec", ns, bin}, args...), proctest.KillAfter(90*time.Second))
	}
	p0 := inNS("player 0", nsA, "-listen", ":7000", "-name", "nstest", "-headless", "-bot", "-frames", "600")
	if _, err := p0.WaitLine(t.Context(), proctest.Substring("advertising")); err != nil {
		t.Fatalf("player 0 did not advertise: %v", p0)
	}
	p1 := inNS("player 1", nsB, "-p", "1", "-headless", "-bot", "-frames", "600")
	if _, err := p1.WaitLine(t.Context(), proctest.Substring("connected to")); err != nil {
		t.Fatalf("player 1 did not connect: %v\n%v", p1, p0)
	}
	// Player 0 stops advertising once its own handshake is over, which may be a moment
	// after player 1's.
	if _, err := p0.WaitLine(t.Context(), proctest.Substring("connected to")); err != nil {
		t.Fatalf("player 0 did not connect: %v\n%v", p0, p1)
	}
	// The match is full: a third player looking for it by name while it runs (about 10 s,
	// three browsing rounds) must not find it.
	late := inNS("late player", nsB, "-p", "1", "-join", "nstest", "-headless", "-bot")
	<-p0.Exited()
	<-p1.Exited()
	if strings.Contains(cliStdout(late), "found") {
		t.Errorf("the match was still advertised once full: %v", late)
	}
	agreeAt(t, "600", p0, p1)
	want := fmt.Sprintf("p2pa: found nstest at %s:7000; joining", addrA)
	if !strings.Contains(cliStdout(p1), want) {
		t.Errorf("player 1 did not say %q:\n%s", want, cliStdout(p1))
	}
}
