//go:build display

package main

import (
	"testing"
	"time"

	"p2pa/game"
)

// fakeLive is a live session as far as the receiver goroutine is concerned: Readable and
// Receive, with a count the "Update" side reads. The race detector checks that Receive
// and the window's own use of the session never overlap.
type fakeLive struct {
	replaySession // the rest of the session interface; never called here
	readable      chan struct{}
	received      int
	state         game.State // written by Receive, read under the window's lock
}

func (f *fakeLive) Readable() <-chan struct{} { return f.readable }
func (f *fakeLive) Receive()                  { f.received++; f.state = game.State{} }

// TestReceiveAsDatagramsArrive: every arrival signal is handled by the window's receiver
// goroutine (not by the next tick), under the same lock Update and Draw hold, and none
// after the window finished; stop ends the goroutine.
func TestReceiveAsDatagramsArrive(t *testing.T) {
	f := &fakeLive{readable: make(chan struct{})}
	w := &window{sess: f}
	stop := w.receive()
	defer stop()
	const n = 200
	go func() {
		for range n {
			f.readable <- struct{}{} // unbuffered: each send is one Receive's wake-up
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// What Update and Draw do: use the session under the lock while Receive runs.
		w.mu.Lock()
		got := f.received
		_ = f.state
		w.mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d arrivals handled", got, n)
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Lock()
	w.finished = true
	w.mu.Unlock()
	f.readable <- struct{}{}
	stop()
	stop() // a second stop is harmless
	if f.received != n {
		t.Errorf("Receive ran %d times, want %d: a finished window still received", f.received, n)
	}
	// A session without Readable (a replay) gets no goroutine.
	(&window{sess: &replaySession{}}).receive()()
}
