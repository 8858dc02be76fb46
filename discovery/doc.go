// Package discovery lets peers of a game find each other on a LAN with DNS-SD over
// multicast DNS (RFC 6763 over RFC 6762). A host advertises one service instance: its
// name, the UDP port it listens on, the addresses it can be reached at, and a TXT record
// describing the match (protocol version, game, seats wanted and taken, whether a secret
// is required). A joiner browses for a few seconds and gets every instance that answered,
// its TXT record parsed and checked. Nothing here knows the coin game: the game and the
// service type are strings the caller gives (the p2pa binaries use ServiceType).
//
// The multicast DNS itself comes from github.com/hashicorp/mdns. Of the Go mDNS modules
// the module proxy serves, it is the only one that does DNS-SD both ways: it answers PTR,
// SRV, TXT, A and AAAA queries for a service instance and browses by service type,
// returning host, port, addresses and TXT strings. It works over IPv4 and IPv6, lets the
// caller choose the multicast interface, is maintained (releases through 2025), and brings
// only github.com/miekg/dns and golang.org/x/net. github.com/pion/mdns/v2, the other one
// served, resolves host names (A/AAAA) for WebRTC and has no service records or TXT;
// grandcat/zeroconf, libp2p/zeroconf and brutella/dnssd are not served by the proxy.
//
// Browsing, though, is a loop of our own (query.go) over github.com/miekg/dns, which the
// module is built on: the module's QueryContext asks again for an instance each time an
// answer leaves it incomplete, without limit, so a responder answering every query with
// incomplete records made a joiner send ~900 queries a second for its whole browse. Ours
// asks again at most every 250 ms per instance and 16 times per browse.
//
// A TXT record comes from whoever sends a multicast packet on the link, so ParseTXT treats
// it as hostile: every field is checked and a bad record is an error, never a panic.
//
// Loopback interfaces carry no multicast on Linux, so two peers on one machine do not see
// each other's advertisement unless some other interface loops it back; callers that want
// the one-machine case should also try a known local address (p2pa tries 127.0.0.1:7000
// and [::1]:7000).
package discovery
