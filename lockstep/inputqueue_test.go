package lockstep

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests drive one player's inputQueue through syncLayer.addInput, the only way inputs
// reach it, and read it back through input and confirmedThrough.

// queueInputs returns what q gives for frames from..to (one byte per input).
func queueInputs(q *inputQueue, from, to Frame) []byte {
	var out []byte
	for f := from; f <= to; f++ {
		out = append(out, q.input(f)...)
	}
	return out
}

func TestInputQueuePrediction(t *testing.T) {
	for _, tc := range []struct {
		name      string
		real      []byte // player 1's real inputs for frames 0, 1, ...
		dropped   bool   // the player was disconnected after them
		from, to  Frame
		want      []byte
		wantKnown Frame
		wantConf  Frame // confirmedThrough
	}{
		{name: "nothing known: zero inputs", from: 0, to: 3, want: []byte{0, 0, 0, 0}, wantKnown: NullFrame, wantConf: NullFrame},
		{name: "known frames are the real inputs", real: []byte{7, 8, 9}, from: 0, to: 2, want: []byte{7, 8, 9}, wantKnown: 2, wantConf: 2},
		{name: "past the known frame the last input repeats", real: []byte{7, 8}, from: 0, to: 4, want: []byte{7, 8, 8, 8, 8}, wantKnown: 1, wantConf: 1},
		{name: "far ahead still the last input", real: []byte{3}, from: 200, to: 201, want: []byte{3, 3}, wantKnown: 0, wantConf: 0},
		{name: "a dropped player's last input stands for every later frame, all confirmed", real: []byte{1, 2}, dropped: true,
			from: 0, to: 3, want: []byte{1, 2, 2, 2}, wantKnown: 1, wantConf: 1<<31 - 1},
		{name: "a player dropped before any input plays zeros", dropped: true, from: 0, to: 1, want: []byte{0, 0}, wantKnown: NullFrame, wantConf: 1<<31 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSyncLayer(2, 1, 8, 0)
			for f, in := range tc.real {
				if !s.addInput(1, Frame(f), []byte{in}) {
					t.Fatalf("input of frame %d refused", f)
				}
			}
			q := &s.queues[1]
			if tc.dropped {
				q.connected, q.final = false, true // what Session.drop does once the departure is agreed
			}
			if diff := cmp.Diff(tc.want, queueInputs(q, tc.from, tc.to)); diff != "" {
				t.Errorf("inputs of frames %d..%d (-want +got):\n%s", tc.from, tc.to, diff)
			}
			if q.known != tc.wantKnown || q.confirmedThrough() != tc.wantConf {
				t.Errorf("known %d, confirmed through %d; want %d, %d", q.known, q.confirmedThrough(), tc.wantKnown, tc.wantConf)
			}
		})
	}
}

// TestInputQueueAcceptsOnlyTheNextFrame: inputs arrive in order without gaps; duplicates,
// gaps and inputs of the wrong size change nothing.
func TestInputQueueAcceptsOnlyTheNextFrame(t *testing.T) {
	type add struct {
		f  Frame
		in []byte
		ok bool
	}
	for _, tc := range []struct {
		name      string
		adds      []add
		wantKnown Frame
		want      []byte // inputs of frames 0..3 afterwards
	}{
		{"in order", []add{{0, []byte{1}, true}, {1, []byte{2}, true}, {2, []byte{3}, true}}, 2, []byte{1, 2, 3, 3}},
		{"a gap is refused", []add{{0, []byte{1}, true}, {2, []byte{9}, false}}, 0, []byte{1, 1, 1, 1}},
		{"not starting at 0 is a gap", []add{{1, []byte{9}, false}}, NullFrame, []byte{0, 0, 0, 0}},
		{"a duplicate does not overwrite", []add{{0, []byte{1}, true}, {1, []byte{2}, true}, {1, []byte{9}, false}, {0, []byte{9}, false}}, 1, []byte{1, 2, 2, 2}},
		{"wrong size is refused", []add{{0, []byte{1, 2}, false}, {0, nil, false}, {0, []byte{5}, true}}, 0, []byte{5, 5, 5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSyncLayer(2, 1, 8, 0)
			for _, a := range tc.adds {
				if got := s.addInput(1, a.f, a.in); got != a.ok {
					t.Errorf("addInput(frame %d, %x) = %v, want %v", a.f, a.in, got, a.ok)
				}
			}
			q := &s.queues[1]
			if q.known != tc.wantKnown {
				t.Errorf("known = %d, want %d", q.known, tc.wantKnown)
			}
			if diff := cmp.Diff(tc.want, queueInputs(q, 0, 3)); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInputQueueSlots: the ring maps frames ringFrames apart to one slot, each slot is
// exactly one input wide, and an append to a slot cannot spill into the next one.
func TestInputQueueSlots(t *testing.T) {
	const size = 3
	q := newInputQueue(size)
	for _, f := range []Frame{0, 1, ringFrames - 1, ringFrames, 5*ringFrames + 7} {
		sl := q.slot(q.inputs, f)
		if len(sl) != size || cap(sl) != size {
			t.Errorf("frame %d: slot len %d cap %d, want %d", f, len(sl), cap(sl), size)
		}
		if &sl[0] != &q.slot(q.inputs, f+ringFrames)[0] {
			t.Errorf("frames %d and %d do not share a slot", f, f+ringFrames)
		}
		if f%ringFrames != (f+1)%ringFrames && &sl[0] == &q.slot(q.inputs, f+1)[0] {
			t.Errorf("frames %d and %d share a slot", f, f+1)
		}
	}
	next := q.slot(q.inputs, 1)
	copy(next, []byte{4, 5, 6})
	// Appending to a full slot must reallocate, not write into frame 1's slot.
	if grown := append(q.slot(q.inputs, 0), 9); len(grown) != size+1 {
		t.Fatalf("append gave %d bytes", len(grown))
	}
	if diff := cmp.Diff([]byte{4, 5, 6}, next); diff != "" {
		t.Errorf("appending to slot 0 changed slot 1 (-want +got):\n%s", diff)
	}
	// The ring of real inputs and the ring of inputs used are separate.
	if &q.slot(q.inputs, 0)[0] == &q.slot(q.used, 0)[0] {
		t.Error("inputs and used share memory")
	}
}
