package peer

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"p2pa/rendezvous"
)

// ServeOptions are the flags of p2pa -serve: the rendezvous server that pairs players by
// room, and the TURN relay it may embed. Only p2pa serves (cmd/p2pa runs it); the window
// refuses -serve.
type ServeOptions struct {
	Addr       string         // -serve HOST:PORT: HTTP, with the WebSocket at /ws
	TURN       string         // -turn HOST:PORT: the embedded relay's address (UDP, and TCP on the same port); "" for none
	Public     netip.Addr     // -public IP: the address players reach the relay at
	TURNAllow  []netip.Prefix // -turn-allow CIDR,...: private ranges the relay may relay to anyway
	ICE        []string       // -ice URL,...: STUN/TURN servers to hand out besides (or instead of) the relay
	TURNSecret string         // -turn-secret S: TURN REST secret of the -ice TURN servers (and the relay's)
	Web        string         // -web DIR: the browser build (make web's bin/web) served at /, beside the rooms
}

// serveFlags are the flags that go with -serve; every other one plays a match.
var serveFlags = []string{"serve", "turn", "public", "turn-allow", "ice", "turn-secret", "web", "profile", "h", "help"}

// serveFlagVars declares the -serve flags on fs; the string ones are parsed by checkServe.
func serveFlagVars(fs *flag.FlagSet, o *Options, public, allow, ice *string) {
	fs.StringVar(&o.Serve.Addr, "serve", "", "p2pa only: run the rendezvous server on this HTTP address (host:port) instead of playing:\n"+
		"players meet in rooms there to find each other across NATs (see -turn)")
	fs.StringVar(&o.Serve.TURN, "turn", "", "with -serve: also run a TURN relay (and STUN) on this address, e.g. :3478, for players\n"+
		"no direct path joins (UDP, and TCP for networks that let no UDP out); the server hands out\n"+
		"short-lived credentials per room")
	fs.StringVar(public, "public", "", "with -turn: the relay's public IP address, the one players reach it at")
	fs.StringVar(allow, "turn-allow", "", "with -turn: comma-separated ranges (CIDR) of private addresses the relay may relay to\n"+
		"(by default it refuses private, loopback and link-local ones)")
	fs.StringVar(ice, "ice", "", "with -serve: comma-separated STUN/TURN URLs handed to players, e.g. stun:stun.example.org:3478,turn:relay.example.org:3478")
	fs.StringVar(&o.Serve.Web, "web", "", "with -serve: also serve this folder (make web's bin/web) at /, so a browser that opens\n"+
		"http://HOST:PORT/ plays through the rooms of the same server")
	fs.StringVar(&o.Serve.TURNSecret, "turn-secret", "", "with -serve: the shared secret of the -ice TURN servers (coturn's static-auth-secret),\n"+
		"also the relay's (default: a random one)")
}

// checkServe validates the -serve flags. name is the program: only p2pa serves.
func (o *Options) checkServe(name string, set map[string]bool, public, allow, ice string) error {
	s := &o.Serve
	if s.Addr == "" {
		for _, f := range []string{"turn", "public", "turn-allow", "ice", "turn-secret", "web"} {
			if set[f] {
				return fmt.Errorf("-%s: only with -serve ADDR", f)
			}
		}
		return nil
	}
	if name != "p2pa" {
		return errors.New("-serve: the server has no window; run it with p2pa -serve")
	}
	for f := range set {
		if !slices.Contains(serveFlags, f) {
			return fmt.Errorf("-%s: not with -serve (the server plays no match)", f)
		}
	}
	if s.Web != "" {
		if err := checkWebDir(s.Web); err != nil {
			return fmt.Errorf("-web %s: %w", s.Web, err)
		}
	}
	if err := checkHostPort(s.Addr); err != nil {
		return fmt.Errorf("-serve %s: %w", s.Addr, err)
	}
	if public != "" {
		a, err := netip.ParseAddr(public)
		if err != nil || a.IsUnspecified() {
			return fmt.Errorf("-public %s: want the relay's public IP address", public)
		}
		s.Public = a.Unmap()
	}
	if allow != "" {
		for _, f := range strings.Split(allow, ",") {
			f = strings.TrimSpace(f)
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					return fmt.Errorf("-turn-allow %s: want address ranges such as 10.0.0.0/8", f)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			s.TURNAllow = append(s.TURNAllow, p.Masked())
		}
	}
	switch {
	case s.TURN == "" && set["public"]:
		return errors.New("-public: only with -turn ADDR (it is the relay's address)")
	case s.TURN == "" && set["turn-allow"]:
		return errors.New("-turn-allow: only with -turn ADDR")
	}
	if s.TURN != "" {
		if err := checkHostPort(s.TURN); err != nil {
			return fmt.Errorf("-turn %s: %w", s.TURN, err)
		}
		host, _, _ := net.SplitHostPort(s.TURN)
		ip, err := netip.ParseAddr(host)
		switch {
		case s.Public.IsValid():
		case host == "" || (err == nil && ip.IsUnspecified()):
			return fmt.Errorf("-turn %s: give -public IP, the address players reach the relay at", s.TURN)
		case err != nil:
			return fmt.Errorf("-turn %s: give an IP address, or -public IP", s.TURN)
		}
	}
	if ice != "" {
		for _, u := range strings.Split(ice, ",") {
			u = strings.TrimSpace(u)
			turn, err := rendezvous.CheckICEURL(u)
			if err != nil {
				return fmt.Errorf("-ice: %w", err)
			}
			if turn && s.TURNSecret == "" {
				return fmt.Errorf("-ice %s: a TURN server needs -turn-secret (its static-auth-secret) to make credentials", u)
			}
			s.ICE = append(s.ICE, u)
		}
	}
	if set["turn-secret"] && s.TURNSecret == "" {
		return errors.New("-turn-secret: empty")
	}
	return nil
}

// checkHostPort accepts host:port with a port number (0: any free one).
func checkHostPort(hp string) error {
	_, port, err := net.SplitHostPort(hp)
	if err != nil {
		return errors.New("want host:port, e.g. :8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q: want 0..65535", port)
	}
	return nil
}

// checkWebDir reports whether dir holds a browser build: index.html beside the wasm.
func checkWebDir(dir string) error {
	for _, f := range []string{"index.html", "wasm_exec.js", "p2pa-window.wasm"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("not a browser build (make web makes one in bin/web): %w", err)
		}
	}
	return nil
}
