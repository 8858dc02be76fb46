package main

import (
	"net"
	"net/netip"
	"strconv"
)

// shareableAddr is the address the other machine should send to, for the waiting screen:
// the listen address when it names a host, else this machine's LAN address with the
// listen port. An empty host or 0.0.0.0/:: means every interface, so the address worth
// telling is the LAN one; loopback only works when both players sit at this machine.
func shareableAddr(listen netip.AddrPort) string {
	if listen.Addr().IsValid() && !listen.Addr().IsUnspecified() {
		return listen.String()
	}
	ip := lanIP()
	if !ip.IsValid() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip, listen.Port()).String()
}

// lanIP picks this machine's most likely LAN address: the first private IPv4 address of
// an interface that is up, else any global unicast IPv4 one, else none.
func lanIP() netip.Addr {
	ifs, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}
	}
	var fallback netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if !ip.Is4() || !ip.IsGlobalUnicast() {
				continue
			}
			if ip.IsPrivate() {
				return ip
			}
			if !fallback.IsValid() {
				fallback = ip
			}
		}
	}
	return fallback
}

// parseListenFlag reads a -listen value such as ":7000" or "127.0.0.1:7000" into an
// address whose host may be unspecified. It never fails: the session validates the flag
// for real, this only feeds the waiting screen.
func parseListenFlag(s string) netip.AddrPort {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if host == "localhost" {
			ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		} else {
			ip = netip.IPv4Unspecified()
		}
	}
	return netip.AddrPortFrom(ip, uint16(p))
}
