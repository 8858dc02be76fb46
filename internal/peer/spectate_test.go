package peer

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
)

// TestWatchLines: what a spectator prints for the events of its session: the feeder it
// turns to when the one before left or went silent, a state it is handed, and the end.
func TestWatchLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames int
		events []lockstep.Event
		want   []string
		ended  bool
	}{
		{"player 0 leaves a match that goes on", 1500, []lockstep.Event{
			{Kind: lockstep.EventSynchronizing, Player: 1, Progress: 5, Total: 5},
			{Kind: lockstep.EventResumed, Player: 1, Frame: 298, Err: errors.New("player 0 left the match")},
		}, []string{"p2pa: player 0 left the match; watching on through player 1 from frame 298"}, false},
		{"player 0 killed, then player 1 ends the match", 0, []lockstep.Event{
			{Kind: lockstep.EventResumed, Player: 1, Frame: 305, Err: errors.New("player 0 stopped answering")},
			{Kind: lockstep.EventPeerLeft, Player: 1, Frame: 900},
		}, []string{
			"p2pa: player 0 stopped answering; watching on through player 1 from frame 305",
			"p2pa: player 1 ended the match at frame 900",
		}, true},
		{"handed a state", 0, []lockstep.Event{
			{Kind: lockstep.EventHandover, Player: 1, Frame: 298, Total: 1059},
		}, []string{"p2pa: player 1 hands us the match's state at frame 298 (1059 bytes); watching from there"}, false},
		{"the match reaches our -frames", 300, []lockstep.Event{
			{Kind: lockstep.EventPeerLeft, Player: 0, Frame: 300},
		}, []string{"p2pa: the match ended at frame 300"}, true},
		{"the last feeder goes silent", 0, []lockstep.Event{
			{Kind: lockstep.EventDisconnected, Player: 2, Frame: 450},
		}, []string{"p2pa: player 2 stopped answering; the match is over for us at frame 450"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			w := &Watch{opts: Options{Frames: tc.frames}, out: &out}
			for _, e := range tc.events {
				w.onEvent(e)
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if w.Ended() != tc.ended {
				t.Errorf("Ended() = %v, want %v", w.Ended(), tc.ended)
			}
		})
	}
}
