//go:build linux

package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/netns"
	"p2pa/internal/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m) }

var (
	roomOpened = regexp.MustCompile(`room \S+; the others run`)
	reached    = regexp.MustCompile(`p2pa: reached player \d (directly|through the relay)`)
	playing    = regexp.MustCompile(`p2pa: connected to`)
)

// BenchmarkRoomConnect: two real p2pa processes behind emulated NATs (network namespaces,
// nftables; root only) meet in a room of `p2pa -serve -turn` and start playing. An
// iteration is one match's start: player 0 has opened the room, player 1 starts, and the
// clock stops when both say they are connected (the handshake is over: both play).
//
//	connect-ms   from player 1's start to both playing, in milliseconds
func BenchmarkRoomConnect(b *testing.B) {
	if err := netns.Available(); err != nil {
		b.Skip(err)
	}
	bin := filepath.Join(proctest.Build(b, "p2pa/cmd/p2pa"), "p2pa")
	for _, bc := range []struct {
		name string
		nat  netns.NAT
	}{
		{"path=direct", netns.PortRestricted}, // hole punched through two cones
		{"path=relayed", netns.Symmetric},     // two symmetric NATs: only the relay connects them
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := netns.New(b, bc.nat, bc.nat)
			pub := netns.PublicAddr.String()
			name, argv := n.Command(n.Public.Name, bin, "-serve", pub+":8080", "-turn", pub+":3478", "-public", pub)
			server := proctest.Start(b, "server", name, argv, proctest.KillAfter(10*time.Minute))
			b.Cleanup(func() { server.Signal(syscall.SIGTERM); <-server.Exited() })
			wait(b, server, regexp.MustCompile(`rooms at`))
			url := "http://" + pub + ":8080"
			var total time.Duration
			for i := range b.N {
				room := fmt.Sprintf("bench%d", i)
				args := func(k int) []string {
					return []string{"-p", fmt.Sprint(k), "-server", url, "-room", room, "-headless", "-bot", "-seed", "3"}
				}
				name, argv := n.Command(n.Hosts[0].Name, bin, args(0)...)
				p0 := proctest.Start(b, "player 0", name, argv, proctest.KillAfter(time.Minute))
				wait(b, p0, roomOpened)
				name, argv = n.Command(n.Hosts[1].Name, bin, args(1)...)
				start := time.Now()
				p1 := proctest.Start(b, "player 1", name, argv, proctest.KillAfter(time.Minute))
				wait(b, p1, playing)
				wait(b, p0, playing)
				total += time.Since(start)
				for _, p := range []*proctest.Proc{p0, p1} {
					if !reached.MatchString(p.String()) {
						b.Fatalf("%s never said how it reached the other: %v", p.Name(), p)
					}
					p.Signal(syscall.SIGTERM)
					<-p.Exited()
				}
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "connect-ms")
		})
	}
}

// wait waits up to a minute for a line of p's output matching re.
func wait(b *testing.B, p *proctest.Proc, re *regexp.Regexp) {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	if _, err := p.WaitLine(ctx, re); err != nil {
		b.Fatalf("%s never said %v: %v", p.Name(), re, p)
	}
}
