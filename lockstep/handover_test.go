package lockstep

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// windowState is what the tests compare of a handoverWindow.
type windowState struct {
	Window, Base int
	Done         bool
	Acked        []int // the chunks acknowledged
}

func stateOf(w *handoverWindow) windowState {
	st := windowState{Window: w.window, Base: w.base, Done: w.done}
	for i, a := range w.acked {
		if a {
			st.Acked = append(st.Acked, i)
		}
	}
	return st
}

func TestHandoverWindowAck(t *testing.T) {
	type ack struct {
		next int
		bits uint64
	}
	for _, tc := range []struct {
		name   string
		chunks int
		acks   []ack
		want   windowState
	}{
		{"nothing yet", 10, nil, windowState{Window: handoverStartWindow}},
		{"a prefix", 10, []ack{{3, 0}}, windowState{Window: handoverStartWindow + 3, Base: 3, Acked: []int{0, 1, 2}}},
		{"chunks past a gap", 10, []ack{{2, 0b101}}, windowState{Window: handoverStartWindow + 4, Base: 2, Acked: []int{0, 1, 3, 5}}},
		{"the gap filled moves the base past what was held", 10, []ack{{2, 0b101}, {3, 0}},
			windowState{Window: handoverStartWindow + 5, Base: 4, Acked: []int{0, 1, 2, 3, 5}}},
		{"repeated acks grow nothing", 10, []ack{{3, 0}, {3, 0}, {1, 0}}, windowState{Window: handoverStartWindow + 3, Base: 3, Acked: []int{0, 1, 2}}},
		{"bits past the end are ignored", 4, []ack{{2, 0xff}}, windowState{Window: handoverStartWindow + 3, Base: 2, Acked: []int{0, 1, 3}}},
		{"all", 4, []ack{{4, 0}}, windowState{Window: handoverStartWindow + 4, Base: 4, Done: true, Acked: []int{0, 1, 2, 3}}},
		{"the window stops growing at its top", 2 * handoverMaxWindow, []ack{{2 * handoverMaxWindow, 0}},
			windowState{Window: handoverMaxWindow, Base: 2 * handoverMaxWindow, Done: true, Acked: seq(2 * handoverMaxWindow)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHandoverWindow(tc.chunks)
			for _, a := range tc.acks {
				w.ack(a.next, a.bits)
			}
			if diff := cmp.Diff(tc.want, stateOf(w)); diff != "" {
				t.Errorf("after %v (-want +got):\n%s", tc.acks, diff)
			}
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// sendAll runs w.send with room for room chunks and returns the chunks sent.
func sendAll(w *handoverWindow, now time.Duration, room int) []int {
	var sent []int
	w.send(now, func() bool { return len(sent) < room }, func(i int) { sent = append(sent, i) })
	return sent
}

func TestHandoverWindowSend(t *testing.T) {
	const ms = time.Millisecond
	w := newHandoverWindow(100)
	steps := []struct {
		name       string
		now        time.Duration
		room       int
		ackNext    int // acknowledge every chunk before it first (0: no ack)
		want       []int
		wantWindow int
	}{
		{"the first call fills the window", 10 * ms, 1000, 0, seq(handoverStartWindow), handoverStartWindow},
		{"all in flight: nothing more", 20 * ms, 1000, 0, nil, handoverStartWindow},
		{"acks open the window by what they acknowledge, twice", 30 * ms, 1000, 8,
			[]int{32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47}, handoverStartWindow + 8},
		{"no room in the output: the rest waits", 40 * ms, 2, 10, []int{48, 49}, handoverStartWindow + 10},
		{"the rest of the window next time", 45 * ms, 1000, 0, []int{50, 51}, handoverStartWindow + 10},
	}
	for _, st := range steps {
		if st.ackNext > 0 {
			w.ack(st.ackNext, 0)
		}
		got := sendAll(w, st.now, st.room)
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: chunks sent (-want +got):\n%s", st.name, diff)
		}
		if w.window != st.wantWindow {
			t.Errorf("%s: window %d, want %d", st.name, w.window, st.wantWindow)
		}
	}
}

func TestHandoverWindowLoss(t *testing.T) {
	const ms = time.Millisecond
	w := newHandoverWindow(8)
	if got := sendAll(w, 10*ms, 1000); len(got) != 8 {
		t.Fatalf("first send: %v", got)
	}
	// Chunks 0..3 arrive; 4..7 are lost.
	w.ack(4, 0)
	if got := sendAll(w, 10*ms+handoverResend/2, 1000); got != nil {
		t.Errorf("resent %v before handoverResend", got)
	}
	// After handoverResend the lost chunks go again, and the window halves once for them.
	before := w.window
	got := sendAll(w, 10*ms+handoverResend, 1000)
	if diff := cmp.Diff([]int{4, 5, 6, 7}, got); diff != "" {
		t.Errorf("resent (-want +got):\n%s", diff)
	}
	if want := max(before/2, handoverMinWindow); w.window != want {
		t.Errorf("window %d after a loss, want %d (once, from %d)", w.window, want, before)
	}
	// Lost again at once: no second cut within handoverResend of the first.
	cut := w.window
	sendAll(w, 10*ms+handoverResend+handoverResend/2, 1000)
	if w.window != cut {
		t.Errorf("window %d, want %d: cut twice within handoverResend", w.window, cut)
	}
	// The window never shrinks below handoverMinWindow.
	for i := range 10 {
		sendAll(w, 10*ms+time.Duration(i+2)*handoverResend, 1000)
	}
	if w.window != handoverMinWindow {
		t.Errorf("window %d after repeated losses, want %d", w.window, handoverMinWindow)
	}
	w.ack(8, 0)
	if !w.done {
		t.Errorf("not done with every chunk acknowledged")
	}
}

// TestHandoverInPut: a receiver takes in the chunks of a 1,000-byte state (three chunks:
// 480, 480, 40 bytes) in the order given; each step says what the chunk came to and what
// the receiver asks for next (its acknowledgement). A state whose checksum does not match
// starts over; a chunk of the wrong length or index is malformed and changes nothing.
func TestHandoverInPut(t *testing.T) {
	state := make([]byte, 1000)
	for i := range state {
		state[i] = byte(i * 7)
	}
	chunk := func(i int) []byte { return state[i*stateChunk : min((i+1)*stateChunk, len(state))] }
	type step struct {
		index int
		data  []byte
		want  chunkResult
		ack   stateAckMsg
	}
	for _, tc := range []struct {
		name  string
		sum   uint64 // the announced checksum
		steps []step
	}{
		{"in order", stateChecksum(state), []step{
			{0, chunk(0), chunkHeld, stateAckMsg{frame: 9, next: 1}},
			{1, chunk(1), chunkHeld, stateAckMsg{frame: 9, next: 2}},
			{2, chunk(2), chunkDone, stateAckMsg{frame: 9, next: 3}},
		}},
		{"out of order, a repeat, a bad chunk", stateChecksum(state), []step{
			{2, chunk(2), chunkHeld, stateAckMsg{frame: 9, next: 0, bits: 0b10}},
			{2, chunk(2), chunkStale, stateAckMsg{frame: 9, next: 0, bits: 0b10}},
			{0, chunk(1)[:100], chunkMalformed, stateAckMsg{frame: 9, next: 0, bits: 0b10}},
			{3, chunk(2), chunkMalformed, stateAckMsg{frame: 9, next: 0, bits: 0b10}},
			{0, chunk(0), chunkHeld, stateAckMsg{frame: 9, next: 1, bits: 0b1}},
			{1, chunk(1), chunkDone, stateAckMsg{frame: 9, next: 3}},
		}},
		{"a wrong checksum starts over", stateChecksum(state) ^ 1, []step{
			{0, chunk(0), chunkHeld, stateAckMsg{frame: 9, next: 1}},
			{1, chunk(1), chunkHeld, stateAckMsg{frame: 9, next: 2}},
			{2, chunk(2), chunkCorrupt, stateAckMsg{frame: 9, next: 0}},
			{0, chunk(0), chunkHeld, stateAckMsg{frame: 9, next: 1}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newHandoverIn(resumeInfo{set: true, frame: 9, size: len(state), sum: tc.sum}, 0)
			for i, st := range tc.steps {
				got := in.put(st.index, st.data, time.Duration(i))
				if diff := cmp.Diff([]any{st.want, st.ack}, []any{got, in.ack()}, cmp.AllowUnexported(stateAckMsg{})); diff != "" {
					t.Fatalf("step %d (chunk %d): (-want +got)\n%s", i, st.index, diff)
				}
			}
			if last := tc.steps[len(tc.steps)-1]; last.want == chunkDone && string(in.buf) != string(state) {
				t.Errorf("the state held differs from the one handed over")
			}
		})
	}
}
