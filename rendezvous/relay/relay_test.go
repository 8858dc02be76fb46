package relay

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pion/turn/v5"

	"p2pa/rendezvous"
)

const secret = "relay-test-secret"

func startRelay(t *testing.T, allow ...netip.Prefix) *Relay {
	t.Helper()
	return startRelayConfig(t, Config{Listen: "127.0.0.1:0", Secret: secret, Allow: allow})
}

func startRelayConfig(t *testing.T, cfg Config) *Relay {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// turnClient is a pion TURN client on loopback with the given credentials.
func turnClient(t *testing.T, r *Relay, user, pass string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // the client closed it already, or the test is over
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: r.Addr().String(),
		TURNServerAddr: r.Addr().String(),
		Username:       user,
		Password:       pass,
		Realm:          Realm,
		Conn:           conn,
		LoggerFactory:  quietFactory{},
		RTO:            50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestCredentials: only fresh credentials under the relay's secret get an allocation;
// STUN answers anyone.
func TestCredentials(t *testing.T) {
	r := startRelay(t)
	fresh := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name       string
		user, pass string
		ok         bool
	}{
		{"fresh", "", "", true},
		{"none", "-", "-", false},
		{"expired", "", "", false},
		{"other secret", "", "", false},
		{"tampered expiry", "", "", false},
		{"not a timestamp", "soon:x", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, pass := rendezvous.TURNCredentials(secret, "R.1", fresh)
			switch tc.name {
			case "none":
				user, pass = "", ""
			case "expired":
				user, pass = rendezvous.TURNCredentials(secret, "R.1", time.Now().Add(-time.Minute))
			case "other secret":
				user, pass = rendezvous.TURNCredentials("guess", "R.1", fresh)
			case "tampered expiry":
				u2, _ := rendezvous.TURNCredentials(secret, "R.1", fresh.Add(24*time.Hour))
				user = u2 // the password of the earlier expiry
			case "not a timestamp":
				user = tc.user
			}
			c := turnClient(t, r, user, pass)
			mapped, err := c.SendBindingRequest()
			if err != nil {
				t.Fatalf("STUN: %v", err)
			}
			if ap, err := netip.ParseAddrPort(mapped.String()); err != nil || !ap.Addr().IsLoopback() {
				t.Errorf("STUN mapped address %v, %v", mapped, err)
			}
			relayed, err := c.Allocate()
			if (err == nil) != tc.ok {
				t.Fatalf("allocate: %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				if err := relayed.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestPeerFilter: the relay refuses a permission for a loopback peer unless allowed, and
// relays both ways when allowed.
func TestPeerFilter(t *testing.T) {
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	user, pass := rendezvous.TURNCredentials(secret, "R.1", time.Now().Add(time.Hour))

	t.Run("refused", func(t *testing.T) {
		c := turnClient(t, startRelay(t), user, pass)
		relayed, err := c.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		defer relayed.Close()
		if err := c.CreatePermission(peer.LocalAddr()); err == nil {
			t.Error("a permission for a loopback peer was granted")
		}
	})

	t.Run("allowed", func(t *testing.T) {
		c := turnClient(t, startRelay(t, netip.MustParsePrefix("127.0.0.0/8")), user, pass)
		relayed, err := c.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		defer relayed.Close()
		if err := c.CreatePermission(peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if _, err := relayed.WriteTo([]byte("through the relay"), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if err := peer.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, from, err := peer.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:n], []byte("through the relay")) || from.String() != relayed.LocalAddr().String() {
			t.Errorf("peer got %q from %v, want it from the relayed address %v", buf[:n], from, relayed.LocalAddr())
		}
		if _, err := peer.WriteTo([]byte("back"), from); err != nil {
			t.Fatal(err)
		}
		if err := relayed.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, _, err = relayed.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "back" {
			t.Errorf("client got %q, %v", buf[:n], err)
		}
	})
}

// TestTCP: a player whose network lets no UDP out reaches the relay over TCP, with the same
// credentials, and the relay still refuses bad ones there.
func TestTCP(t *testing.T) {
	r := startRelay(t)
	for _, tc := range []struct {
		name    string
		expires time.Time
		ok      bool
	}{
		{"fresh", time.Now().Add(time.Hour), true},
		{"expired", time.Now().Add(-time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcp, err := net.Dial("tcp", r.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			user, pass := rendezvous.TURNCredentials(secret, "R.1", tc.expires)
			c, err := turn.NewClient(&turn.ClientConfig{
				STUNServerAddr: r.Addr().String(),
				TURNServerAddr: r.Addr().String(),
				Username:       user,
				Password:       pass,
				Conn:           turn.NewSTUNConn(tcp),
				LoggerFactory:  quietFactory{},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Listen(); err != nil {
				t.Fatal(err)
			}
			relayed, err := c.Allocate()
			if (err == nil) != tc.ok {
				t.Fatalf("allocate over TCP: %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				if err := relayed.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestQuota: one credential holds at most UserAllocations allocations; another credential
// still gets one, and a freed allocation makes room again.
func TestQuota(t *testing.T) {
	r := startRelayConfig(t, Config{Listen: "127.0.0.1:0", Secret: secret, UserAllocations: 2})
	fresh := time.Now().Add(time.Hour)
	u1, p1 := rendezvous.TURNCredentials(secret, "R.1", fresh)
	var held []net.PacketConn
	for i := range 2 {
		a, err := turnClient(t, r, u1, p1).Allocate()
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		held = append(held, a)
	}
	if a, err := turnClient(t, r, u1, p1).Allocate(); err == nil {
		_ = a.Close()
		t.Fatal("a third allocation for one credential")
	}
	u2, p2 := rendezvous.TURNCredentials(secret, "R.2", fresh)
	a, err := turnClient(t, r, u2, p2).Allocate()
	if err != nil {
		t.Fatalf("another member: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Error(err)
	}
	if err := held[0].Close(); err != nil { // a refresh with lifetime 0: the server deletes it
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, err := turnClient(t, r, u1, p1).Allocate()
		if err == nil {
			_ = a.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed allocation was never counted out: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := held[1].Close(); err != nil {
		t.Error(err)
	}
}

func TestPeerAllowed(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		ip    string
		allow []netip.Prefix
		ok    bool
	}{
		{"198.51.100.20", nil, true},
		{"8.8.8.8", nil, true},
		{"2001:4860:4860::8888", nil, true},
		{"10.0.1.2", nil, false},
		{"172.16.0.1", nil, false},
		{"192.168.1.5", nil, false},
		{"192.168.1.5", lan, true},
		{"192.168.2.5", lan, false},
		{"127.0.0.1", nil, false},
		{"::1", nil, false},
		{"::1", lan, true},
		{"::ffff:127.0.0.1", nil, false},
		{"::ffff:10.1.2.3", nil, false},
		{"169.254.169.254", nil, false}, // a cloud's metadata service
		{"fe80::1", nil, false},
		{"fd00::1", nil, false},
		{"0.0.0.0", nil, false},
		{"0.1.2.3", nil, false},
		{"100.64.0.1", nil, false},
		{"224.0.0.1", nil, false},
		{"255.255.255.255", nil, false},
		{"::", nil, false},
		{"ff02::1", nil, false},
		{"64:ff9b::a00:1", nil, false},
	} {
		if got := PeerAllowed(netip.MustParseAddr(tc.ip), tc.allow); got != tc.ok {
			t.Errorf("%s (allow %v): %v, want %v", tc.ip, tc.allow, got, tc.ok)
		}
	}
	if PeerAllowed(netip.Addr{}, nil) {
		t.Error("the zero address was allowed")
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no secret", Config{Listen: "127.0.0.1:0"}},
		{"no public address", Config{Listen: ":0", Secret: "s"}},
		{"bad address", Config{Listen: "127.0.0.1:x", Secret: "s"}},
	} {
		if r, err := New(tc.cfg); err == nil {
			_ = r.Close()
			t.Errorf("%s: started", tc.name)
		}
	}
}

func TestURLs(t *testing.T) {
	r, err := New(Config{Listen: "127.0.0.1:0", Public: netip.MustParseAddr("2001:db8::7"), Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hp := "[2001:db8::7]:" + strconv.Itoa(int(r.Addr().Port()))
	want := []string{"stun:" + hp, "turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
	if d := cmp.Diff(want, r.URLs()); d != "" {
		t.Errorf("URLs (-want +got):\n%s", d)
	}
	for _, u := range r.URLs() {
		if _, err := rendezvous.CheckICEURL(u); err != nil {
			t.Error(err)
		}
	}
}
