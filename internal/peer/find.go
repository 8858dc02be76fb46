package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"p2pa/discovery"
	"p2pa/game"
	"p2pa/lockstep"
)

// How a joining player with no -peer looks for a match.
const (
	// browseWindow is how long one round of multicast DNS browsing listens.
	browseWindow = discovery.DefaultBrowse
	// probeWait is how long a local probe waits for "port unreachable" before taking the
	// silence as a listening player 0 (loopback reports a closed port at once).
	probeWait = 300 * time.Millisecond
	// lookReminderMax caps the back-off of the "still looking" message.
	lookReminderMax = time.Minute
	// localPortEnv, when set, names the port the local fallback tries instead of
	// DefaultPort and turns off multicast browsing. Tests set it so that they neither
	// collide on port 7000 nor send multicast on the machine's network; users have -peer.
	localPortEnv = "P2PA_TEST_LOCAL_PORT"
)

// DefaultName is the advertised name unless -name says otherwise: this host's name, made
// a valid DNS-SD instance name.
func DefaultName() string {
	h, err := os.Hostname()
	if err != nil {
		h = ""
	}
	return discovery.InstanceFrom(h, "p2pa")
}

// shouldAdvertise: player 0 advertises unless told not to or bound to loopback only
// (nobody else could reach it).
func (o Options) shouldAdvertise() bool {
	if o.Player != 0 || o.NoAdvertise || o.Peer != "" {
		return false
	}
	ap, err := netip.ParseAddrPort(o.Listen)
	return err != nil || !ap.Addr().IsLoopback() // ":7000" does not parse: all interfaces
}

// startAdvertising begins advertising the match if it should; a failure is reported and
// the match goes on (the other player can still use -peer).
func (m *Match) startAdvertising() {
	if !m.opts.shouldAdvertise() || m.ad != nil {
		return
	}
	local := m.udp.LocalAddr()
	var ips []net.IP
	if !local.Addr().IsUnspecified() {
		ips = []net.IP{local.Addr().AsSlice()}
	}
	cfg := discovery.AdvertiseConfig{
		Port: int(local.Port()),
		IPs:  ips,
		Ad: discovery.Ad{
			Instance: m.opts.Name,
			Protocol: lockstep.ProtocolVersion,
			Game:     m.opts.GameDescription(),
			Want:     m.opts.Players,
			Seated:   1,
			Secret:   m.opts.Secret != "",
		},
	}
	if m.opts.Verbose {
		cfg.Logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	ad, err := discovery.Advertise(cfg)
	if err != nil {
		fmt.Fprintf(m.out, "p2pa: not advertised on the LAN (%v); the other player needs -peer\n", err)
		return
	}
	m.ad = ad
	fmt.Fprintf(m.out, "p2pa: advertising %q on the LAN as %s: on another machine, p2pa -p 1 finds it (-no-advertise: do not advertise)\n", m.opts.Name, discovery.ServiceType)
}

// stopAdvertising withdraws the advertisement: the match is full or over.
func (m *Match) stopAdvertising() {
	if m.ad == nil {
		return
	}
	if err := m.ad.Close(); err != nil {
		m.debug("stop advertising", "err", err)
	}
	m.ad = nil
}

// ErrSeveralGames is returned by FindGame when more than one match answered and neither
// -join nor -peer chose one.
var ErrSeveralGames = errors.New("several games found")

// Found is one match FindGame saw, for listing.
type Found = discovery.Ad

// FindGame gives a joining player with no -peer an address: it browses the LAN for
// advertised matches of our game, and when none answers it tries a player 0 on this
// machine. One match found (or the one -join names): o comes back with Peer set. Several:
// the list and ErrSeveralGames. None: it keeps looking, saying so after 5 s, 10 s, 20 s…,
// until ctx ends.
func FindGame(ctx context.Context, o Options, out io.Writer) (Options, []Found, error) {
	if noSockets() {
		return o, nil, ErrNoSockets
	}
	port, browse := DefaultPort, true
	if p := os.Getenv(localPortEnv); p != "" {
		port, browse = p, false
	}
	if o.Join != "" {
		fmt.Fprintf(out, "p2pa: looking for %q on this network…\n", o.Join)
	} else {
		fmt.Fprintln(out, "p2pa: looking for a game on this network…")
	}
	start := time.Now()
	reminder, gap := waitReminder, waitReminder
	browseFailed := false
	for {
		round := time.Now()
		if browse {
			games, err := browseGames(ctx, o, out)
			if err != nil && !browseFailed {
				// No multicast here (yet): the local fallback still runs; browsing is
				// tried again each round, as an interface may come up.
				browseFailed = true
				if o.Verbose {
					fmt.Fprintf(out, "p2pa: cannot browse the LAN: %v\n", err)
				}
			}
			switch {
			case len(games) == 1:
				o.Peer = games[0].Addr.String()
				fmt.Fprintf(out, "p2pa: found %s at %s; joining\n", games[0].Instance, o.Peer)
				return o, games, nil
			case len(games) > 1:
				fmt.Fprintln(out, "p2pa: several games on this network:")
				for _, g := range games {
					fmt.Fprintf(out, "p2pa:   %-20s %-22s %d of %d seated\n", g.Instance, g.Addr, g.Seated, g.Want)
				}
				return o, games, &UsageError{fmt.Errorf("%w: choose one with -join NAME or -peer HOST:PORT", ErrSeveralGames)}
			}
		}
		if o.Join == "" {
			if addr, ok := probeLocal(ctx, port); ok {
				o.Peer = addr
				fmt.Fprintf(out, "p2pa: found player 0 on this machine at %s; joining\n", addr)
				return o, nil, nil
			}
		}
		if rest := time.Second - time.Since(round); rest > 0 {
			// A round that did not browse (or whose browsing failed at once) is only the
			// probe: pace it.
			select {
			case <-ctx.Done():
			case <-time.After(rest):
			}
		}
		if ctx.Err() != nil {
			return o, nil, fmt.Errorf("looking for a game: %w", context.Cause(ctx))
		}
		if waited := time.Since(start); waited >= reminder {
			what := "no game on this network or on this machine"
			if o.Join != "" {
				what = fmt.Sprintf("no game named %q on this network", o.Join)
			}
			fmt.Fprintf(out, "p2pa: %s after %v; still looking (or give -peer HOST:PORT)\n", what, waited.Round(time.Second))
			gap = min(gap*2, lookReminderMax)
			reminder = waited + gap
		}
	}
}

// browseGames browses once and keeps the matches we could join: our protocol, our game, a
// free seat, and the -join name if given. The rest are mentioned with -v.
func browseGames(ctx context.Context, o Options, out io.Writer) ([]Found, error) {
	cfg := discovery.BrowseConfig{Timeout: browseWindow}
	if o.Verbose {
		cfg.Logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	ads, rejected, err := discovery.Browse(ctx, cfg)
	for _, r := range rejected {
		if o.Verbose {
			fmt.Fprintf(out, "p2pa: ignored an advertisement: %v\n", r)
		}
	}
	var games []Found
	for _, a := range ads {
		why := ""
		switch {
		case o.Join != "" && !strings.EqualFold(a.Instance, o.Join):
			continue
		case a.Protocol != lockstep.ProtocolVersion:
			why = fmt.Sprintf("protocol %d, we run %d", a.Protocol, lockstep.ProtocolVersion)
		case a.Game != o.GameDescription() && !adoptsGame(o, a):
			why = fmt.Sprintf("plays %q, we play %q", a.Game, o.GameDescription())
		case !a.Open():
			why = "full"
		case a.Secret && o.Secret == "":
			why = "needs -secret"
		case !a.Secret && o.Secret != "":
			why = "has no secret, and we give -secret"
		}
		if why != "" {
			if o.Verbose || o.Join != "" {
				fmt.Fprintf(out, "p2pa: %s at %s: %s\n", a.Instance, a.Addr, why)
			}
			continue
		}
		games = append(games, a)
	}
	return games, err
}

// adoptsGame: a joiner takes player 0's mode and coin count for whichever of -mode and
// -coins it was not given (the handshake then tells it the game, and the player count
// unless -players was given). A 3-4 player match plays versus whatever -players said.
func adoptsGame(o Options, a Found) bool {
	mode, coins, err := parseGameDescription(a.Game)
	if err != nil {
		return false
	}
	modeFree := !o.ModeSet && (!o.PlayersSet || o.Players == 2 || mode == game.Versus)
	return (mode == o.Mode || modeFree) && (coins == o.Coins || !o.CoinsSet)
}

// probeLocal looks for a player 0 listening on this machine, on 127.0.0.1:port, then
// [::1]:port. Loopback answers a datagram to a closed port with "port unreachable" at
// once; silence means something is bound there, and the handshake tells whether it is a
// p2pa (the match says so if it is not). The probe datagram is one byte, which a session
// drops as malformed.
func probeLocal(ctx context.Context, port string) (string, bool) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		addr := net.JoinHostPort(host, port)
		if udpListening(ctx, addr) {
			return addr, true
		}
	}
	return "", false
}

func udpListening(ctx context.Context, addr string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return false // no IPv6 here, say
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(probeWait)); err != nil {
		return false
	}
	if _, err := c.Write([]byte{0}); err != nil {
		return false
	}
	var b [1]byte
	_, err = c.Read(b[:])
	if err == nil {
		return true // something answered a junk byte: not ours, but listening
	}
	// Linux and macOS report the ICMP as ECONNREFUSED, Windows as WSAECONNRESET.
	return !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET)
}

// checkDiscovery checks -name and -join and fills in the default name.
func (o *Options) checkDiscovery() error {
	if o.Name == "" {
		o.Name = DefaultName()
	} else if err := discovery.CheckInstance(o.Name); err != nil {
		return fmt.Errorf("-name: %w", err)
	}
	switch {
	case o.Join == "":
	case o.Player == 0:
		return errors.New("-join: player 0 hosts; -join is for a joining player (-p 1)")
	case o.Peer != "":
		return errors.New("-join: give -join NAME or -peer HOST:PORT, not both")
	default:
		if err := discovery.CheckInstance(o.Join); err != nil {
			return fmt.Errorf("-join: %w", err)
		}
	}
	return nil
}
