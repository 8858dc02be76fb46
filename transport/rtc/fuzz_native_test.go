//go:build !js

package rtc

import (
	"testing"

	"github.com/pion/ice/v4"
)

// FuzzICECandidate feeds pion's candidate parser what a member could put in a candidate
// signal: it must refuse or accept, never panic.
func FuzzICECandidate(f *testing.F) {
	for _, s := range []string{
		"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host",
		"candidate:2 1 udp 1694498815 198.51.100.10 40000 typ srflx raddr 10.0.0.1 rport 5000",
		"candidate:3 1 udp 16777215 198.51.100.1 50000 typ relay raddr 0.0.0.0 rport 0",
		"candidate:4 1 tcp 1 10.0.0.1 9 typ host tcptype active",
		"candidate:5 1 udp 1 3f1c.local 5000 typ host generation 0 ufrag x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := ice.UnmarshalCandidate(s); err == nil && c == nil {
			t.Fatal("nil candidate without an error")
		}
	})
}
