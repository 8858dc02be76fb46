// The handover window: a donor's flow control over the chunks of one state handover.

package lockstep

import "time"

// handoverWindow is a donor's view of one handover of a state in chunks, as raft's
// inflights is a leader's view of a follower's appends: which chunks the receiver has
// acknowledged, which are in flight, and how many may be. The window grows by every chunk
// newly acknowledged and halves (at most once per handoverResend) when a chunk sent has not
// been acknowledged within handoverResend, so a handover fills a thin link without
// overflowing the receiver's socket buffer.
type handoverWindow struct {
	window  int           // chunks that may be in flight
	lastCut time.Duration // when the window last halved: once per handoverResend at most
	acked   []bool
	sentAt  []time.Duration // when each chunk was last sent; 0: never
	base    int             // every chunk before it is acknowledged
	done    bool            // every chunk is acknowledged
}

// newHandoverWindow is the window of a handover of n chunks, none sent yet.
func newHandoverWindow(n int) *handoverWindow {
	return &handoverWindow{window: handoverStartWindow, acked: make([]bool, n), sentAt: make([]time.Duration, n)}
}

// ack takes in a receiver's acknowledgement: it holds every chunk before next, and chunk
// next+1+i for every bit i set in bits. next must not exceed the chunk count.
func (w *handoverWindow) ack(next int, bits uint64) {
	n := len(w.acked)
	newly := 0
	mark := func(i int) {
		if !w.acked[i] {
			w.acked[i] = true
			newly++
		}
	}
	for i := w.base; i < next; i++ {
		mark(i)
	}
	for i := 0; i < 64 && next+1+i < n; i++ {
		if bits&(1<<i) != 0 {
			mark(next + 1 + i)
		}
	}
	w.window = min(w.window+newly, handoverMaxWindow)
	for w.base < n && w.acked[w.base] {
		w.base++
	}
	w.done = w.base == n
}

// unsend makes every chunk not acknowledged yet due now, as if never sent: the receiver
// was not listening when they went (no window cut: nothing says the link is full).
func (w *handoverWindow) unsend() {
	for i := w.base; i < len(w.acked); i++ {
		if !w.acked[i] {
			w.sentAt[i] = 0
		}
	}
}

// inFlight reports whether chunk i was sent less than handoverResend before now.
func (w *handoverWindow) inFlight(i int, now time.Duration) bool {
	return w.sentAt[i] != 0 && now-w.sentAt[i] < handoverResend
}

// send calls sendChunk for every chunk to send now, oldest first, while room says there is
// room in this call's output: the chunks neither acknowledged nor in flight, within the
// window. A chunk sent before is lost (or late): the link is fuller than the window
// thought, and the window halves, once per resend interval, so a burst of losses (or
// random loss) does not shut it.
func (w *handoverWindow) send(now time.Duration, room func() bool, sendChunk func(i int)) {
	n := len(w.acked)
	flying := 0
	for i := w.base; i < n; i++ {
		if !w.acked[i] && w.inFlight(i, now) {
			flying++
		}
	}
	resent := false
	for i := w.base; i < n && flying < w.window; i++ {
		if w.acked[i] || w.inFlight(i, now) {
			continue
		}
		if w.sentAt[i] != 0 && !resent && now-w.lastCut >= handoverResend {
			resent, w.lastCut = true, now
			w.window = max(w.window/2, handoverMinWindow)
			if flying >= w.window {
				return
			}
		}
		if !room() {
			return
		}
		sendChunk(i)
		w.sentAt[i] = max(now, 1)
		flying++
	}
}
