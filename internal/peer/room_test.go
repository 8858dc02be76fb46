//go:build !js

package peer

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"p2pa/rendezvous"
)

// TestJoinFreeSeat: a browser page opened on a room's link takes the first free seat,
// trying the next on a taken one, and says so when there is none left; JoinSeat names the
// room it opened.
func TestJoinFreeSeat(t *testing.T) {
	srv, err := rendezvous.NewServer(rendezvous.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv) // loopback only
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	opts := func(args ...string) Options {
		o, err := ParseFlags("test", append([]string{"-server", hs.URL, "-headless"}, args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	host, err := JoinSeat(ctx, opts("-p", "0", "-room", "seats"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Link.Conn.Close()
	if host.Room != "SEATS" || host.Player != 0 {
		t.Errorf("JoinSeat = room %q player %d, want SEATS and 0", host.Room, host.Player)
	}
	parent := t // the seats taken are held until the last case
	for _, tc := range []struct {
		name    string
		args    []string
		player  int    // the seat wanted; -1: an error
		wantErr string // in the error
	}{
		{"first free", []string{"-room", "seats"}, 1, ""},
		{"next free", []string{"-room", "seats"}, 2, ""},
		{"none left of -players 3", []string{"-room", "seats", "-players", "3"}, -1, "room SEATS has no free seat (players 1 to 2 are all taken)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(tc.args...)
			j, err := JoinFreeSeat(ctx, o, io.Discard)
			if tc.player < 0 {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, rendezvous.ErrSeatTaken) {
					t.Errorf("JoinFreeSeat = %v, want an error containing %q", err, tc.wantErr)
				}
				if err == nil {
					j.Link.Conn.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			parent.Cleanup(func() { j.Link.Conn.Close() })
			if j.Player != tc.player || j.Room != "SEATS" || !j.Link.Host.IsValid() {
				t.Errorf("JoinFreeSeat = player %d room %q host %v, want player %d of SEATS", j.Player, j.Room, j.Link.Host, tc.player)
			}
		})
	}
}
