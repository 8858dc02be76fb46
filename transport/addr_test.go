package transport

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// stubResolver replaces the host lookup for the test so no query leaves the machine.
func stubResolver(t *testing.T) {
	t.Helper()
	hosts := map[string][]netip.Addr{
		"localhost":   {netip.MustParseAddr("::1"), netip.MustParseAddr("::ffff:127.0.0.1")},
		"v6only.test": {netip.MustParseAddr("::1")},
		"empty.test":  {},
	}
	saved := lookupHost
	lookupHost = func(_ context.Context, host string) ([]netip.Addr, error) {
		if addrs, ok := hosts[host]; ok {
			return addrs, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	t.Cleanup(func() { lookupHost = saved })
}

func TestResolvePeer(t *testing.T) {
	stubResolver(t)
	tests := []struct {
		in      string
		want    string // "" means an error is expected
		errPart string
	}{
		{in: "127.0.0.1:7000", want: "127.0.0.1:7000"},
		{in: ":7000", want: "127.0.0.1:7000"},
		{in: "[::1]:7000", want: "[::1]:7000"},
		{in: "[::ffff:127.0.0.1]:7000", want: "127.0.0.1:7000"},
		{in: "localhost:7000", want: "127.0.0.1:7000"}, // IPv4 preferred, unmapped
		{in: "v6only.test:1", want: "[::1]:1"},
		{in: "10.1.2.3:65535", want: "10.1.2.3:65535"},
		{in: "", errPart: "empty"},
		{in: "7000", errPart: "missing port"},
		{in: "127.0.0.1", errPart: "missing port"},
		{in: "127.0.0.1:", errPart: "missing port"},
		{in: ":0", errPart: "1..65535"},
		{in: ":99999", errPart: "1..65535"},
		{in: ":-1", errPart: "1..65535"},
		{in: "127.0.0.1:http", errPart: "1..65535"},
		{in: "::1:7000", errPart: "too many colons"},
		{in: "[::1]", errPart: "missing port"},
		{in: "0.0.0.0:7000", errPart: "unspecified"},
		{in: "[::]:7000", errPart: "unspecified"},
		{in: "224.0.0.1:7000", errPart: "multicast"},
		{in: "nosuchhost.invalid:7000", errPart: "unknown host"},
		{in: "empty.test:7000", errPart: "no addresses"},
		{in: "bad..name:7000", errPart: "valid host name"},
		{in: "bad name:7000", errPart: "valid host name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ResolvePeer(tt.in)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("ResolvePeer(%q): %v", tt.in, err)
				}
				if want := netip.MustParseAddrPort(tt.want); got != want {
					t.Fatalf("ResolvePeer(%q) = %v, want %v", tt.in, got, want)
				}
				return
			}
			checkAddrErr(t, tt.in, err, tt.errPart)
		})
	}
}

func TestParseListen(t *testing.T) {
	stubResolver(t)
	tests := []struct {
		in, want, errPart string
	}{
		{in: ":7000", want: ":7000"},
		{in: ":0", want: ":0"},
		{in: "127.0.0.1:7000", want: "127.0.0.1:7000"},
		{in: "[::1]:0", want: "[::1]:0"},
		{in: "0.0.0.0:7000", want: "0.0.0.0:7000"},
		{in: "[::]:7000", want: "[::]:7000"},
		{in: "[::ffff:127.0.0.1]:9", want: "127.0.0.1:9"},
		{in: "localhost:7000", want: "127.0.0.1:7000"},
		{in: "", errPart: "empty"},
		{in: "7000", errPart: "missing port"},
		{in: ":99999", errPart: "0..65535"},
		{in: ":-1", errPart: "0..65535"},
		{in: "bad..name:1", errPart: "valid host name"},
		{in: "nosuchhost.invalid:1", errPart: "unknown host"},
		{in: "[ff02::1]:1", errPart: "multicast"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseListen(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseListen(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			checkAddrErr(t, tt.in, err, tt.errPart)
		})
	}
}

func checkAddrErr(t *testing.T, in string, err error, part string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%q: no error, want one containing %q", in, part)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "address "+`"`+in+`"`+": ") {
		t.Errorf("error %q does not start by naming the input", msg)
	}
	if !strings.Contains(msg, part) {
		t.Errorf("error %q does not contain %q", msg, part)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q is not one line", msg)
	}
}

// TestResolvePeerLocalhost uses the system resolver for "localhost", answered from the hosts
// file; whichever family it prefers, the result must be loopback.
func TestResolvePeerLocalhost(t *testing.T) {
	got, err := ResolvePeer("localhost:7000")
	if err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	if !got.Addr().IsLoopback() || got.Port() != 7000 || got.Addr().Is4In6() {
		t.Fatalf("ResolvePeer(localhost:7000) = %v, want an unmapped loopback address, port 7000", got)
	}
}

func TestValidHostName(t *testing.T) {
	for _, s := range []string{"a", "localhost", "peer-1.example.com", "x.y.", "_srv.a", strings.Repeat("a", 63)} {
		if !validHostName(s) {
			t.Errorf("validHostName(%q) = false", s)
		}
	}
	for _, s := range []string{"", ".", "a..b", "-a", "a-", "a-.b", "a b", "a/b", "é", strings.Repeat("a", 64), strings.Repeat("a.", 127) + "ab"} {
		if validHostName(s) {
			t.Errorf("validHostName(%q) = true", s)
		}
	}
}
