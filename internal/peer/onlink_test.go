package peer

import (
	"log/slog"
	"strings"
	"testing"

	"p2pa/rendezvous"
	"p2pa/transport/rtc"
)

// TestOnLinkPathChange: a link that opens through the relay and that ICE then moves to the
// direct pair gives a second line, "reached player K directly", which the match prints
// and whose path its status (the window's HUD) takes; a path first unknown (printed as
// direct) then known to be direct says nothing twice.
func TestOnLinkPathChange(t *testing.T) {
	r := &roomLink{
		log: slog.New(slog.DiscardHandler), notes: make(chan LinkNote, 16), closed: make(chan struct{}),
		members: map[string]rendezvous.Member{
			"p0": {ID: "m0", Seat: 0},
			"p2": {ID: "m2", Seat: 2},
		},
		ids: map[string]string{"m0": "p0", "m2": "p2"}, reached: map[string]string{},
	}
	relayed := rtc.LinkInfo{State: rtc.LinkOpen, Path: rtc.PathRelayed, Relay: "198.51.100.1:3478"}
	direct := rtc.LinkInfo{State: rtc.LinkOpen, Path: rtc.PathDirect}
	unknown := rtc.LinkInfo{State: rtc.LinkOpen}
	for _, e := range []rtc.Event{
		{Member: "p0", State: rtc.LinkOpen, Info: relayed},
		{Member: "p0", State: rtc.LinkOpen, Info: direct, PathChanged: true},
		{Member: "p0", State: rtc.LinkOpen, Info: relayed, PathChanged: true},
		{Member: "p2", State: rtc.LinkOpen, Info: unknown},
		{Member: "p2", State: rtc.LinkOpen, Info: direct, PathChanged: true},
	} {
		r.onLink(e)
	}
	want := []LinkNote{
		{Player: 0, Path: "relay 198.51.100.1:3478", Line: "p2pa: reached player 0 through the relay at 198.51.100.1:3478"},
		{Player: 0, Path: "direct", Line: "p2pa: reached player 0 directly"},
		{Player: 0, Path: "relay 198.51.100.1:3478", Line: "p2pa: reached player 0 through the relay at 198.51.100.1:3478"},
		{Player: 2, Path: "direct", Line: "p2pa: reached player 2 directly"},
	}
	var got []LinkNote
	for len(r.notes) > 0 {
		got = append(got, <-r.notes)
	}
	if len(got) != len(want) {
		t.Fatalf("notes %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("note %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// The match prints each note, and its status (the window's HUD) says the latest path.
	notes := make(chan LinkNote, 1)
	var out strings.Builder
	m := &Match{out: &out, notes: notes}
	for i, n := range got[:2] {
		notes <- n
		m.readNotes()
		if p := m.status.Paths[0]; p != n.Path {
			t.Errorf("after note %d, the status says player 0 by %q, want %q", i, p, n.Path)
		}
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || lines[1] != "p2pa: reached player 0 directly" {
		t.Errorf("the match printed %q, want the relay line then the direct one", lines)
	}
}
