//go:build linux

package main

import (
	"context"
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/netns"
	"p2pa/internal/proctest"
)

// The internet tests play across emulated NATs (internal/netns): hosts in private networks
// behind nftables routers, and `p2pa -serve` with its relay on the public segment. The
// players know only the server's URL and a room name, as two friends would.

const (
	internetSeed   = "77"
	internetFrames = "1200"
	internetKill   = 120 * time.Second // every process is killed if it still runs after this
	serverPort     = 8080
	turnPort       = 3478
)

// internet is one topology with a server on its public segment.
type internet struct {
	t      *testing.T
	n      *netns.Net
	server *proctest.Proc
	url    string
}

// newInternet makes hosts behind nats and starts the server; withRelay adds its TURN relay
// (which also answers STUN: without it nobody learns their outside address).
func newInternet(t *testing.T, withRelay bool, nats ...netns.NAT) *internet {
	t.Helper()
	n := netns.New(t, nats...)
	pub := netns.PublicAddr.String()
	args := []string{"-serve", fmt.Sprintf("%s:%d", pub, serverPort)}
	if withRelay {
		args = append(args, "-turn", fmt.Sprintf("%s:%d", pub, turnPort), "-public", pub)
	}
	bin, argv := n.Command(n.Public.Name, cliBinary(t), args...)
	server := proctest.Start(t, "server", bin, argv, proctest.KillAfter(internetKill))
	t.Cleanup(func() { // before proctest's own cleanup, which would kill it
		server.Signal(syscall.SIGTERM)
		select {
		case <-server.Exited():
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := server.WaitLine(ctx, regexp.MustCompile(`rooms at`)); err != nil {
		t.Fatalf("the server did not start: %v", server)
	}
	return &internet{t: t, n: n, server: server, url: fmt.Sprintf("http://%s:%d", pub, serverPort)}
}

// player starts `p2pa -p k -server URL -room room` on host h with a seeded bot.
func (in *internet) player(name string, h int, args ...string) *proctest.Proc {
	in.t.Helper()
	argv := append([]string{"-server", in.url, "-headless", "-bot", "-seed", internetSeed}, args...)
	bin, argv := in.n.Command(in.n.Hosts[h].Name, cliBinary(in.t), argv...)
	return proctest.Start(in.t, name, bin, argv, proctest.KillAfter(internetKill))
}

// waitFor waits up to d for a line of p's stdout or stderr matching re.
func waitFor(t *testing.T, p *proctest.Proc, re *regexp.Regexp, d time.Duration, others ...*proctest.Proc) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for {
		if m := re.FindString(cliStdout(p) + "\n" + cliStderr(p)); m != "" {
			return m
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never said %v within %v:\n%v\n%v", p.Name(), re, d, p, others)
		case <-p.Exited():
			if m := re.FindString(cliStdout(p) + "\n" + cliStderr(p)); m != "" {
				return m
			}
			t.Fatalf("%s exited without saying %v:\n%v\n%v", p.Name(), re, p, others)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var (
	reachedDirectly = regexp.MustCompile(`p2pa: reached player \d directly`)
	reachedRelay    = regexp.MustCompile(`p2pa: reached player \d through the relay at [0-9.]+:\d+`)
	reachedAny      = regexp.MustCompile(`p2pa: reached player \d (directly|through the relay at [0-9.]+:\d+)`)
)

// TestInternetMatrix: two players behind NATs of each kind that matter, started only with
// the server's URL and a room name, finish a seeded match on one checksum: directly
// through port-restricted cones (hole punching), through the relay between symmetric NATs,
// and with a clear failure line in time when symmetric NATs meet a server with no relay.
func TestInternetMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("plays whole matches across emulated NATs")
	}
	t.Parallel()
	for _, tc := range []struct {
		name      string
		nats      [2]netns.NAT
		withRelay bool
		want      *regexp.Regexp
	}{
		{"cone-cone", [2]netns.NAT{netns.PortRestricted, netns.PortRestricted}, true, reachedDirectly},
		{"symmetric-symmetric-relay", [2]netns.NAT{netns.Symmetric, netns.Symmetric}, true, reachedRelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInternet(t, tc.withRelay, tc.nats[0], tc.nats[1])
			room := "matrix-" + tc.name
			p0 := in.player("player 0", 0, "-p", "0", "-room", room, "-frames", internetFrames)
			waitFor(t, p0, regexp.MustCompile(`(?i)room `+room), 30*time.Second)
			p1 := in.player("player 1", 1, "-p", "1", "-room", room, "-frames", internetFrames)
			for _, p := range []*proctest.Proc{p0, p1} {
				waitFor(t, p, tc.want, 30*time.Second, p0, p1)
				// The last line counts: ICE may open a link through the relay and move it
				// to the direct pair a moment later, and the room says both.
				if ms := reachedAny.FindAllString(cliStdout(p), -1); len(ms) > 0 && !tc.want.MatchString(ms[len(ms)-1]) {
					t.Errorf("%s: last said %q, want %v", p.Name(), ms[len(ms)-1], tc.want)
				}
			}
			<-p0.Exited()
			<-p1.Exited()
			agreeAt(t, internetFrames, p0, p1)
		})
	}
}

// TestInternetNoPath: two symmetric NATs and a server without a relay: each player says it
// cannot reach the other, and why, and exits 1 within 15 s of the second player's start.
func TestInternetNoPath(t *testing.T) {
	if testing.Short() {
		t.Skip("plays across emulated NATs")
	}
	t.Parallel()
	in := newInternet(t, false, netns.Symmetric, netns.Symmetric)
	p0 := in.player("player 0", 0, "-p", "0", "-room", "nopath", "-frames", internetFrames)
	waitFor(t, p0, regexp.MustCompile(`(?i)room nopath`), 30*time.Second)
	start := time.Now()
	p1 := in.player("player 1", 1, "-p", "1", "-room", "nopath", "-frames", internetFrames)
	want := regexp.MustCompile(`p2pa: could not reach player \d: no direct path through the NATs, and the server offers no relay`)
	deadline := time.NewTimer(30 * time.Second) // generous: the goal is 15 s, checked below
	defer deadline.Stop()
	for _, p := range []*proctest.Proc{p1, p0} {
		select {
		case <-p.Exited():
		case <-deadline.C:
			t.Fatalf("%s still running 30 s after player 1 started:\n%v\n%v", p.Name(), p0, p1)
		}
		if got := p.ExitCode(); got != 1 {
			t.Errorf("%s exited %d, want 1", p.Name(), got)
		}
		if !want.MatchString(cliStdout(p) + "\n" + cliStderr(p)) {
			t.Errorf("%s did not say %v:\n%v", p.Name(), want, p)
		}
	}
	// The goal is 15 s; the check allows a loaded machine's slack, since it is not a
	// benchmark: what matters is that the failure is reported and not waited out forever.
	if took := time.Since(start); took > 25*time.Second {
		t.Errorf("the failure took %v after player 1 started (goal: 15 s)", took)
	}
}

// TestInternetThreePlayers: three players, two behind cones and one behind a symmetric NAT
// (reached through the relay where hole punching cannot work), finish on one checksum.
func TestInternetThreePlayers(t *testing.T) {
	if testing.Short() {
		t.Skip("plays across emulated NATs")
	}
	t.Parallel()
	in := newInternet(t, true, netns.PortRestricted, netns.PortRestricted, netns.Symmetric)
	p0 := in.player("player 0", 0, "-p", "0", "-players", "3", "-room", "three", "-frames", internetFrames)
	waitFor(t, p0, regexp.MustCompile(`(?i)room three`), 30*time.Second)
	p1 := in.player("player 1", 1, "-p", "1", "-room", "three", "-frames", internetFrames)
	p2 := in.player("player 2", 2, "-p", "2", "-room", "three", "-frames", internetFrames)
	for _, p := range []*proctest.Proc{p0, p1, p2} {
		<-p.Exited()
	}
	agreeAt(t, internetFrames, p0, p1, p2)
}

// TestInternetRejoin: player 1 is killed mid-match and its command run again; the new
// process comes back into the room with a new connection and rejoins, and both end on one
// checksum.
func TestInternetRejoin(t *testing.T) {
	if testing.Short() {
		t.Skip("plays across emulated NATs")
	}
	t.Parallel()
	in := newInternet(t, true, netns.PortRestricted, netns.PortRestricted)
	p0 := in.player("player 0", 0, "-p", "0", "-room", "again", "-frames", "1500")
	waitFor(t, p0, regexp.MustCompile(`(?i)room again`), 30*time.Second)
	args := []string{"-p", "1", "-room", "again", "-frames", "1500"}
	p1 := in.player("player 1", 1, args...)
	waitFor(t, p1, reachedAny, 30*time.Second, p0)
	time.Sleep(4 * time.Second) // into the match
	p1.Signal(syscall.SIGKILL)
	<-p1.Exited()
	time.Sleep(time.Second)
	again := in.player("player 1 again", 1, args...)
	waitFor(t, again, regexp.MustCompile(`rejoined at frame \d+`), 60*time.Second, p0)
	<-p0.Exited()
	<-again.Exited()
	agreeAt(t, "1500", p0, again)
}

// TestInternetSpectator: a spectator behind a symmetric NAT watches, through the relay, a
// match of two players behind cones, and ends on their checksum.
func TestInternetSpectator(t *testing.T) {
	if testing.Short() {
		t.Skip("plays across emulated NATs")
	}
	t.Parallel()
	in := newInternet(t, true, netns.PortRestricted, netns.PortRestricted, netns.Symmetric)
	p0 := in.player("player 0", 0, "-p", "0", "-room", "watched", "-frames", internetFrames)
	waitFor(t, p0, regexp.MustCompile(`(?i)room watched`), 30*time.Second)
	p1 := in.player("player 1", 1, "-p", "1", "-room", "watched", "-frames", internetFrames)
	bin, argv := in.n.Command(in.n.Hosts[2].Name, cliBinary(t), "-server", in.url, "-spectate", "watched", "-headless", "-frames", internetFrames)
	sp := proctest.Start(t, "spectator", bin, argv, proctest.KillAfter(internetKill))
	waitFor(t, sp, reachedRelay, 30*time.Second, p0, p1)
	for _, p := range []*proctest.Proc{p0, p1, sp} {
		<-p.Exited()
	}
	agreeAt(t, internetFrames, p0, p1, sp)
}
