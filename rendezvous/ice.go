package rendezvous

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CheckICEURL checks a STUN or TURN server URL as RFC 7064 and 7065 write them
// (stun:HOST[:PORT], stuns:, turn:HOST[:PORT][?transport=udp|tcp], turns:) and reports
// whether it is a TURN server, which needs credentials.
func CheckICEURL(s string) (turn bool, err error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return false, fmt.Errorf("ICE server %q: want stun:HOST[:PORT] or turn:HOST[:PORT]", s)
	}
	switch scheme {
	case "stun", "stuns":
	case "turn", "turns":
		turn = true
	default:
		return false, fmt.Errorf("ICE server %q: scheme %q, want stun, stuns, turn or turns", s, scheme)
	}
	hostport, query, _ := strings.Cut(rest, "?")
	if query != "" {
		if !turn {
			return false, fmt.Errorf("ICE server %q: a STUN URL takes no query", s)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return false, fmt.Errorf("ICE server %q: %w", s, err)
		}
		for k, v := range q {
			if k != "transport" || len(v) != 1 || (v[0] != "udp" && v[0] != "tcp") {
				return false, fmt.Errorf("ICE server %q: only ?transport=udp or ?transport=tcp", s)
			}
		}
	}
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return false, fmt.Errorf("ICE server %q: port %q", s, port)
		}
		host = h
	}
	if host == "" || strings.ContainsAny(host, "/@ []") {
		return false, fmt.Errorf("ICE server %q: want a host name or address", s)
	}
	return turn, nil
}

// WebSocketURL turns what a user gives as a server (ws://, wss://, http:// or https://, with
// or without a path) into the URL of its WebSocket: http becomes ws, and an empty path
// becomes /ws, so "http://host:8080" works as well as "ws://host:8080/ws".
func WebSocketURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", s, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server URL %q: want ws://HOST:PORT or http://HOST:PORT (wss, https with TLS)", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server URL %q: no host", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	return u.String(), nil
}
