package peer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want ServeOptions
	}{
		{[]string{"-serve", ":8080"}, ServeOptions{Addr: ":8080"}},
		{[]string{"-serve", "127.0.0.1:0", "-profile", "cpu"}, ServeOptions{Addr: "127.0.0.1:0"}},
		{[]string{"-serve", ":8080", "-turn", ":3478", "-public", "203.0.113.7"},
			ServeOptions{Addr: ":8080", TURN: ":3478", Public: netip.MustParseAddr("203.0.113.7")}},
		// A relay on a specific address needs no -public; -turn-allow takes ranges and addresses.
		{[]string{"-serve", ":8080", "-turn", "127.0.0.1:3478", "-turn-allow", "127.0.0.0/8, 10.1.2.3,fd00::/8"},
			ServeOptions{Addr: ":8080", TURN: "127.0.0.1:3478", TURNAllow: []netip.Prefix{
				netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.1.2.3/32"), netip.MustParsePrefix("fd00::/8"),
			}}},
		{[]string{"-serve", ":8080", "-ice", "stun:stun.example.org:3478,turn:relay.example.org:3478?transport=udp", "-turn-secret", "s"},
			ServeOptions{Addr: ":8080", ICE: []string{"stun:stun.example.org:3478", "turn:relay.example.org:3478?transport=udp"}, TURNSecret: "s"}},
		{[]string{"-serve", "[::]:8080", "-turn", "[::]:3478", "-public", "2001:db8::1", "-turn-secret", "s"},
			ServeOptions{Addr: "[::]:8080", TURN: "[::]:3478", Public: netip.MustParseAddr("2001:db8::1"), TURNSecret: "s"}},
	} {
		got, err := ParseFlags("p2pa", tc.args, &strings.Builder{})
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if d := cmp.Diff(tc.want, got.Serve, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
			cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.args, d)
		}
	}
	// Without -serve nothing changes.
	got, err := ParseFlags("p2pa", nil, &strings.Builder{})
	if err != nil || !cmp.Equal(got.Serve, ServeOptions{}, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
		t.Errorf("no flags: %+v, %v", got.Serve, err)
	}
}

func TestParseServeFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"p2pa", []string{"-turn", ":3478"}, "-turn: only with -serve ADDR"},
		{"p2pa", []string{"-ice", "stun:h"}, "-ice: only with -serve"},
		{"p2pa", []string{"-turn-secret", "s"}, "-turn-secret: only with -serve"},
		{"p2pa", []string{"-serve", "8080"}, "-serve 8080: want host:port"},
		{"p2pa", []string{"-serve", ":http"}, "-serve :http: port"},
		{"p2pa", []string{"-serve", ":8080", "-p", "1"}, "-p: not with -serve"},
		{"p2pa", []string{"-serve", ":8080", "-headless"}, "-headless: not with -serve"},
		{"p2pa", []string{"-serve", ":8080", "-v"}, "-v: not with -serve"},
		{"p2pa", []string{"-serve", ":8080", "-public", "203.0.113.7"}, "-public: only with -turn"},
		{"p2pa", []string{"-serve", ":8080", "-turn-allow", "10.0.0.0/8"}, "-turn-allow: only with -turn"},
		{"p2pa", []string{"-serve", ":8080", "-turn", ":3478"}, "-turn :3478: give -public IP"},
		{"p2pa", []string{"-serve", ":8080", "-turn", "0.0.0.0:3478"}, "give -public IP"},
		{"p2pa", []string{"-serve", ":8080", "-turn", "relay.example.org:3478"}, "give an IP address, or -public IP"},
		{"p2pa", []string{"-serve", ":8080", "-turn", ":99999", "-public", "203.0.113.7"}, "-turn :99999: port"},
		{"p2pa", []string{"-serve", ":8080", "-turn", ":3478", "-public", "somewhere"}, "-public somewhere"},
		{"p2pa", []string{"-serve", ":8080", "-turn", ":3478", "-public", "0.0.0.0"}, "-public 0.0.0.0"},
		{"p2pa", []string{"-serve", ":8080", "-turn", ":3478", "-public", "203.0.113.7", "-turn-allow", "10.0.0.0/33"}, "-turn-allow 10.0.0.0/33"},
		{"p2pa", []string{"-serve", ":8080", "-ice", "http://stun.example.org"}, "-ice: ICE server"},
		{"p2pa", []string{"-serve", ":8080", "-ice", "turn:relay.example.org"}, "-ice turn:relay.example.org: a TURN server needs -turn-secret"},
		{"p2pa", []string{"-serve", ":8080", "-turn-secret", ""}, "-turn-secret: empty"},
		{"p2pa-window", []string{"-serve", ":8080"}, "-serve: the server has no window"},
	} {
		var out strings.Builder
		_, err := ParseFlags(tc.name, tc.args, &out)
		switch {
		case err == nil:
			t.Errorf("%s %q: accepted", tc.name, tc.args)
		case errors.Is(err, ErrHelp):
			t.Errorf("%q: asked for help", tc.args)
		case strings.Contains(err.Error(), "\n"):
			t.Errorf("%q: error of several lines: %q", tc.args, err)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s %q: %q does not say %q", tc.name, tc.args, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%q: wrote %q", tc.args, out.String())
		}
	}
}
