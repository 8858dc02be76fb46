package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// resolveTimeout bounds a host-name lookup so a dead resolver cannot hang start-up.
const resolveTimeout = 5 * time.Second

// lookupHost resolves a host name; tests replace it to stay off the network.
var lookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// ResolvePeer turns a -peer flag into the address to send to.
//
// Accepted: "127.0.0.1:7000", "[::1]:7000", "localhost:7000" (any resolvable name; an IPv4
// address is preferred when the name has both) and ":7000", which means this machine
// (127.0.0.1:7000). The port must be 1..65535. The result is unmapped, so "[::ffff:1.2.3.4]:5"
// comes back as 1.2.3.4:5. Errors are one line naming the input: `address "x": ...`.
func ResolvePeer(s string) (netip.AddrPort, error) {
	ap, err := resolvePeer(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	return ap, nil
}

func resolvePeer(s string) (netip.AddrPort, error) {
	host, port, err := splitHostPort(s, 1)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if host == "" {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port), nil
	}
	addr, err := resolveHost(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if addr.IsUnspecified() {
		return netip.AddrPort{}, errors.New("cannot send to the unspecified address; use a host name or an address like 127.0.0.1")
	}
	if addr.IsMulticast() {
		return netip.AddrPort{}, errors.New("multicast addresses are not supported")
	}
	return netip.AddrPortFrom(addr, port), nil
}

// ParseListen turns a -listen flag into the string to give ListenUDP (or net.ListenUDP).
//
// ":7000" means all interfaces (dual-stack where the system allows it) and stays ":7000";
// "127.0.0.1:7000", "[::1]:0", "0.0.0.0:7000" and "localhost:7000" (resolved, IPv4
// preferred) become a literal address. The port must be 0..65535; 0 picks a free port.
func ParseListen(s string) (string, error) {
	norm, err := parseListen(s)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", s, err)
	}
	return norm, nil
}

func parseListen(s string) (string, error) {
	host, port, err := splitHostPort(s, 0)
	if err != nil {
		return "", err
	}
	if host == "" {
		return ":" + strconv.Itoa(int(port)), nil
	}
	addr, err := resolveHost(host)
	if err != nil {
		return "", err
	}
	if addr.IsMulticast() {
		return "", errors.New("multicast addresses are not supported")
	}
	return netip.AddrPortFrom(addr, port).String(), nil
}

// splitHostPort splits "host:port" and checks the port is a number in minPort..65535.
func splitHostPort(s string, minPort int) (string, uint16, error) {
	if s == "" {
		return "", 0, errors.New("empty; want host:port, e.g. 127.0.0.1:7000 or :7000")
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			// net's message repeats the whole address; ours already names it.
			return "", 0, fmt.Errorf("%s; want host:port, e.g. 127.0.0.1:7000 or :7000", ae.Err)
		}
		return "", 0, err
	}
	if portStr == "" {
		return "", 0, errors.New("missing port number")
	}
	p, err := strconv.ParseUint(portStr, 10, 64)
	if err != nil || p < uint64(minPort) || p > 65535 {
		return "", 0, fmt.Errorf("port %q must be a number in %d..65535", portStr, minPort)
	}
	return host, uint16(p), nil
}

// resolveHost turns an address literal or a host name into one unmapped address.
func resolveHost(host string) (netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.Unmap(), nil
	}
	if !validHostName(host) {
		return netip.Addr{}, fmt.Errorf("%q is neither an IP address nor a valid host name", host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	addrs, err := lookupHost(ctx, host)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return netip.Addr{}, fmt.Errorf("unknown host %q", host)
		}
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("host %q has no addresses", host)
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	return addrs[0].Unmap(), nil
}

// validHostName reports whether s is a syntactically valid DNS name (letters, digits, '-' and
// '_' in dot-separated labels of 1..63 bytes, 253 bytes in all, an optional final dot).
// Checking first keeps obvious typos from reaching the resolver.
func validHostName(s string) bool {
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 || s[i-1] == '-' {
				return false
			}
			label = 0
			continue
		case c == '-':
			if label == 0 {
				return false
			}
		case c == '_', '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return s[len(s)-1] != '-'
}
