//go:build js

package peer

import (
	"context"
	"errors"
	"io"
	"testing"
)

// TestNoSockets: in a browser nothing opens a socket or browses multicast DNS, where Go's
// net package is an in-process fake: a "listening" match there could never be reached.
// make cross runs it under Node.
func TestNoSockets(t *testing.T) {
	o, err := ParseFlags("test", []string{"-p", "1", "-peer", "127.0.0.1:7000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseFlags("test", []string{"-spectate", "127.0.0.1:7000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Start", func() error { _, err := Start(defaultOptions(), io.Discard); return err }()},
		{"Start -peer", func() error { _, err := Start(o, io.Discard); return err }()},
		{"StartWatch", func() error { _, err := StartWatch(w, io.Discard); return err }()},
		{"FindGame", func() error { _, _, err := FindGame(context.Background(), o, io.Discard); return err }()},
	} {
		if !errors.Is(tc.err, ErrNoSockets) {
			t.Errorf("%s in js/wasm: %v, want ErrNoSockets", tc.name, tc.err)
		}
	}
}
