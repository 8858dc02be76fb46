// Package relay is the TURN server that p2pa -serve -turn embeds (pion/turn): it relays
// for peers that no direct path joins (symmetric NATs) and answers STUN binding requests,
// so one UDP port gives players both their public address and a relay.
//
// It only relays for holders of fresh TURN REST credentials (rendezvous.TURNCredentials
// under the same secret, which the rendezvous server hands out per room), and never to
// private, loopback, link-local, multicast or unspecified peer addresses unless Allow names
// their range: a relay on a public machine must not become a way into the networks behind it.
package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// Realm is the TURN realm the relay announces.
const Realm = "p2pa"

// Config configures a Relay.
type Config struct {
	// Listen is the address for TURN and STUN, e.g. ":3478": UDP, and TCP on the same port
	// for players whose network lets no UDP out.
	Listen string
	// Public is the address clients reach the relay at (the machine's public IP); relayed
	// addresses are given out on it. Unset: Listen's IP, which must then be specific.
	Public netip.Addr
	// Secret is the TURN REST secret credentials are checked against.
	Secret string
	// Allow lists the peer ranges that are relayed to although they are private, loopback or
	// link-local (tests on loopback; a relay serving one LAN).
	Allow []netip.Prefix
	// Logger gets the refused peer addresses and allocations. Nil: none.
	Logger *slog.Logger
	// UserAllocations bounds the allocations one credential (one room member) holds at once
	// (0: DefaultUserAllocations); Allocations bounds them all (0: DefaultAllocations).
	// Each is a UDP socket on this machine.
	UserAllocations, Allocations int
}

// DefaultUserAllocations lets a member hold a relayed address per peer it links to (up to
// 11 in a full room), for IPv4 and IPv6, with room for reconnects.
const DefaultUserAllocations = 32

// DefaultAllocations bounds the relay's sockets well under a default file limit's reach.
const DefaultAllocations = 2048

// Relay is a running TURN server.
type Relay struct {
	srv    *turn.Server
	conn   net.PacketConn
	public netip.AddrPort
	quota  quota
}

// quota counts allocations per user (the credential's user part, room and member ID).
type quota struct {
	mu           sync.Mutex
	users        map[string]int
	total        int
	perUser, max int
}

func (q *quota) allow(user string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.users[user] < q.perUser && q.total < q.max
}

func (q *quota) add(user string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.users[user] += n
	q.total += n
	if q.users[user] <= 0 {
		delete(q.users, user)
	}
}

// pairTries bounds listenPair's attempts at a port free for both UDP and TCP.
const pairTries = 16

// listenPair opens the UDP socket and the TCP listener on one port. Given port 0 the kernel
// picks the UDP port, which another program may hold for TCP: then another port is tried,
// rather than fail now and then for no fault of the caller's.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for try := 1; ; try++ {
		conn, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		tcp, err := net.Listen("tcp", conn.LocalAddr().String())
		if err == nil {
			return conn, tcp, nil
		}
		err = errors.Join(fmt.Errorf("TURN over TCP: %w", err), conn.Close())
		if port != "0" || try == pairTries || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
	}
}

// New listens on cfg.Listen and starts relaying.
func New(cfg Config) (*Relay, error) {
	if cfg.Secret == "" {
		return nil, errors.New("relay: no secret: the relay would be open to anyone")
	}
	// TURN over TCP on the same port: the allocation still relays UDP to the peer, only the
	// player's leg to the relay is TCP.
	conn, tcp, err := listenPair(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	local, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		// The parse error is the one to report.
		return nil, errors.Join(fmt.Errorf("relay: local address %v: %w", conn.LocalAddr(), err), conn.Close(), tcp.Close())
	}
	public := cfg.Public
	if !public.IsValid() {
		public = local.Addr().Unmap()
		if public.IsUnspecified() {
			// The configuration error is the one to report.
			return nil, errors.Join(fmt.Errorf("relay: listening on %v: give the public address clients reach it at", local), conn.Close(), tcp.Close())
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	allow := cfg.Allow
	listenIP := local.Addr().Unmap()
	relayBind := "0.0.0.0"
	if !listenIP.IsUnspecified() {
		relayBind = listenIP.String()
	} else if public.Is6() {
		relayBind = "::"
	}
	r := &Relay{conn: conn}
	r.quota = quota{users: map[string]int{}, perUser: cfg.UserAllocations, max: cfg.Allocations}
	if r.quota.perUser == 0 {
		r.quota.perUser = DefaultUserAllocations
	}
	if r.quota.max == 0 {
		r.quota.max = DefaultAllocations
	}
	gen := &turn.RelayAddressGeneratorStatic{RelayAddress: net.IP(public.AsSlice()), Address: relayBind}
	permit := func(client net.Addr, peer net.IP) bool {
		ip, ok := netip.AddrFromSlice(peer)
		if ok && PeerAllowed(ip, allow) {
			return true
		}
		log.Info("relay refused", "client", client.String(), "peer", peer.String())
		return false
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: Realm,
		QuotaHandler: func(user, _ string, client net.Addr) bool {
			if r.quota.allow(user) {
				return true
			}
			log.Info("relay refused", "client", client.String(), "user", user, "why", "allocation quota")
			return false
		},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, user, _ string, _ net.Addr, _ int) { r.quota.add(user, 1) },
			OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) { r.quota.add(user, -1) },
		},
		AuthHandler:       turn.LongTermTURNRESTAuthHandler(cfg.Secret, quietLogger{}),
		LoggerFactory:     quietFactory{},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: conn, RelayAddressGenerator: gen, PermissionHandler: permit}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: gen, PermissionHandler: permit}},
	})
	if err != nil {
		_ = conn.Close() // the server's error is the one to report
		_ = tcp.Close()
		return nil, fmt.Errorf("relay: %w", err)
	}
	r.srv, r.public = srv, netip.AddrPortFrom(public, local.Port())
	return r, nil
}

// Addr is the address clients reach the relay at: the public IP and the listening port.
func (r *Relay) Addr() netip.AddrPort { return r.public }

// URLs are the relay's STUN and TURN URLs (TURN over UDP, then over TCP), for
// rendezvous.ServerConfig.ICE.
func (r *Relay) URLs() []string {
	hp := net.JoinHostPort(r.public.Addr().String(), strconv.Itoa(int(r.public.Port())))
	return []string{"stun:" + hp, "turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
}

// Close stops relaying and closes every allocation.
func (r *Relay) Close() error {
	if err := r.srv.Close(); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}

// PeerAllowed reports whether the relay may send to ip: a public unicast address, or one
// inside allow.
func PeerAllowed(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsLoopback(), ip.IsPrivate(),
		ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return false
	}
	for _, p := range alsoRefused {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// alsoRefused are ranges netip's predicates leave out that a public relay must not reach
// either: "this network", carrier-grade NAT space (another subscriber's side of the ISP's
// NAT), the IPv4 broadcast address, and IPv4-compatible/NAT64 forms that embed any address.
var alsoRefused = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("::/96"),
}

// quietFactory silences pion's own logging: the relay's refusals go through Config.Logger,
// and pion's per-packet errors (a stranger's bad credentials) would be noise on a public box.
type quietFactory struct{}

func (quietFactory) NewLogger(string) logging.LeveledLogger { return quietLogger{} }

type quietLogger struct{}

func (quietLogger) Trace(string)          {}
func (quietLogger) Tracef(string, ...any) {}
func (quietLogger) Debug(string)          {}
func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Info(string)           {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warn(string)           {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Error(string)          {}
func (quietLogger) Errorf(string, ...any) {}
