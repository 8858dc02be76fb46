//go:build !js

package rtc

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/turn/v5"
)

// natWorld is two private networks behind two NAT routers and a public segment with a
// STUN/TURN server, all in pion's virtual network (no root, no sockets).
type natWorld struct {
	wan      *vnet.Router
	netA     *vnet.Net
	netB     *vnet.Net
	server   *turn.Server
	stunURL  string
	turnURLs []string
}

const (
	serverIP = "1.2.3.4"
	turnUser = "user"
	turnPass = "pass"
)

var (
	// Port-restricted cone: one mapping per local socket, but only hosts and ports that
	// socket contacted may answer (nftables' plain masquerade, most home routers).
	portRestricted = &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
	// Symmetric: a new mapping per destination (carrier-grade and corporate NATs).
	symmetric = &vnet.NATType{MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
)

func newNATWorld(t testing.TB, natA, natB *vnet.NATType) *natWorld {
	t.Helper()
	w := &natWorld{stunURL: "stun:" + serverIP + ":3478", turnURLs: []string{"turn:" + serverIP + ":3478?transport=udp"}}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	var err error
	if w.wan, err = vnet.NewRouter(&vnet.RouterConfig{CIDR: "0.0.0.0/0", LoggerFactory: lf}); err != nil {
		t.Fatal(err)
	}
	pub, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{serverIP}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.wan.AddNet(pub); err != nil {
		t.Fatal(err)
	}
	lan := func(publicIP, cidr, hostIP string, nat *vnet.NATType) *vnet.Net {
		r, err := vnet.NewRouter(&vnet.RouterConfig{StaticIPs: []string{publicIP}, CIDR: cidr, NATType: nat, LoggerFactory: lf})
		if err != nil {
			t.Fatal(err)
		}
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{hostIP}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.AddNet(n); err != nil {
			t.Fatal(err)
		}
		if err := w.wan.AddRouter(r); err != nil {
			t.Fatal(err)
		}
		return n
	}
	w.netA = lan("27.1.1.1", "192.168.0.0/24", "192.168.0.2", natA)
	w.netB = lan("28.1.1.1", "10.2.0.0/24", "10.2.0.2", natB)
	if err := w.wan.Start(); err != nil {
		t.Fatal(err)
	}
	pc, err := pub.ListenPacket("udp", serverIP+":3478")
	if err != nil {
		t.Fatal(err)
	}
	w.server, err = turn.NewServer(turn.ServerConfig{
		Realm:         "p2pa",
		LoggerFactory: lf,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != turnUser {
				return "", nil, false
			}
			return ra.Username, turn.GenerateAuthKey(turnUser, ra.Realm, turnPass), true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(serverIP), Address: "0.0.0.0", Net: pub},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.server.Close(); err != nil {
			t.Error(err)
		}
		if err := w.wan.Stop(); err != nil {
			t.Error(err)
		}
	})
	return w
}

func (w *natWorld) servers(relay bool) []ICEServer {
	s := []ICEServer{{URLs: []string{w.stunURL}}}
	if relay {
		s = append(s, ICEServer{URLs: w.turnURLs, Username: turnUser, Credential: turnPass})
	}
	return s
}

// The NAT matrix on pion's virtual network: port-restricted cones are punched through with
// STUN; symmetric NATs need the relay; without one the link fails, with ErrNoPath, in time
// for the binary's 15 s promise.
func TestNATs(t *testing.T) {
	if testing.Short() {
		t.Skip("NAT matrix on a virtual network: ~15 s")
	}
	for _, tc := range []struct {
		name       string
		natA, natB *vnet.NATType
		relay      bool
		kind       LinkKind
		want       Path // PathUnknown: the link fails
	}{
		{"cone/cone STUN ICE-only", portRestricted, portRestricted, false, LinkAuto, PathDirect},
		{"cone/cone STUN+TURN data channel", portRestricted, portRestricted, true, LinkDataChannel, PathDirect},
		{"symmetric/symmetric TURN ICE-only", symmetric, symmetric, true, LinkAuto, PathRelayed},
		{"symmetric/symmetric TURN data channel", symmetric, symmetric, true, LinkDataChannel, PathRelayed},
		{"cone/symmetric TURN ICE-only", portRestricted, symmetric, true, LinkAuto, PathRelayed},
		{"symmetric/symmetric STUN only", symmetric, symmetric, false, LinkAuto, PathUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newNATWorld(t, tc.natA, tc.natB)
			h := newHub()
			a := newMember(t, h, "a", Config{Net: w.netA, ICEServers: w.servers(tc.relay), Link: tc.kind})
			b := newMember(t, h, "b", Config{Net: w.netB, ICEServers: w.servers(tc.relay), Link: tc.kind})
			defer func() {
				a.c.Close()
				b.c.Close()
				for _, err := range h.close() {
					t.Error(err)
				}
			}()
			start := time.Now()
			if err := b.c.Connect("a"); err != nil {
				t.Fatal(err)
			}
			if tc.want == PathUnknown {
				e := b.ev.waitState(t, "a", 15*time.Second, LinkFailed, LinkOpen)
				if e.State != LinkFailed || !errors.Is(e.Err, ErrNoPath) {
					t.Fatalf("event %+v, want failed with ErrNoPath", e)
				}
				t.Logf("failed after %v: %v", time.Since(start).Round(10*time.Millisecond), e.Err)
				return
			}
			eb := b.ev.waitState(t, "a", deadline, LinkOpen, LinkFailed)
			ea := a.ev.waitState(t, "b", deadline, LinkOpen, LinkFailed)
			for _, e := range []Event{ea, eb} {
				if e.State != LinkOpen || e.Info.Path != tc.want {
					t.Fatalf("event %+v, want open %s", e, tc.want)
				}
				if tc.want == PathRelayed && e.Info.Relay != serverIP+":3478" {
					t.Fatalf("relayed through %q, want %s:3478", e.Info.Relay, serverIP)
				}
			}
			t.Logf("b: %s %s/%s relay=%q opened in %v", eb.Info.Kind, eb.Info.Local, eb.Info.Remote, eb.Info.Relay, eb.Info.Opened.Round(time.Millisecond))
			exchange(t, a.c, b.c, 20, deadline)
			exchange(t, b.c, a.c, 20, deadline)
		})
	}
}

// A match through two symmetric NATs, relayed by TURN, agrees, on both link kinds.
func TestRunnerMatchRelayed(t *testing.T) {
	if testing.Short() {
		t.Skip("two 2 s matches on a virtual network")
	}
	for _, kind := range []LinkKind{LinkAuto, LinkDataChannel} {
		t.Run(kind.String(), func(t *testing.T) {
			w := newNATWorld(t, symmetric, symmetric)
			h := newHub()
			p0 := newMember(t, h, "player0", Config{Net: w.netA, ICEServers: w.servers(true), Link: kind})
			p1 := newMember(t, h, "player1", Config{Net: w.netB, ICEServers: w.servers(true), Link: kind})
			defer func() {
				for _, c := range []*Conn{p0.c, p1.c} {
					if err := c.Close(); err != nil {
						t.Error(err)
					}
				}
				for _, err := range h.close() {
					t.Error(err)
				}
			}()
			playMatch(t, p0.c, p1.c, 120)
			if info, _ := p0.c.LinkInfo("player1"); info.Path != PathRelayed {
				t.Fatalf("link %+v, want relayed", info)
			}
		})
	}
}
