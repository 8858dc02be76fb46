//go:build linux

package main

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>
#include <unistd.h>

// p2paHold: the display watcher runs, so a thread whose X connection broke waits here
// for it (which ends the match and exits) rather than letting Xlib exit at once.
static volatile int p2paHold;
// p2paIOErrorSeen: Xlib met a fatal I/O error, on a connection the watcher may not see
// break (its own can outlive ebiten's); the watcher polls it.
static volatile int p2paIOErrorSeen;

static int p2paIOErrorSeenNow(void) { return p2paIOErrorSeen; }

static int p2paIOError(Display *d) {
	(void)d;
	p2paIOErrorSeen = 1;
	while (p2paHold) {
		pause();
	}
	return 0; // Xlib exits the process when the handler returns
}

static void p2paHoldOnIOError(int hold) {
	p2paHold = hold;
	XSetIOErrorHandler(p2paIOError);
}
*/
import "C"

import (
	"fmt"
	"os"
	"time"

	"github.com/jezek/xgb"
)

// watchDisplay opens a connection of our own to the X server the window uses and returns
// a channel that receives one error when that connection closes: the server is gone.
//
// Why: when the X server dies, ebiten's render thread can block for ever in
// glfwSwapBuffers (Mesa waits on a server that will never answer) while its game loop
// waits for that thread, so Update never runs again and Esc's path (and SIGTERM's, which
// goes through Update) is dead; the windows spun at 50-78% CPU for good (issue 19). Or
// Xlib notices first and its default handler exits the process at once: no goodbye, no
// result line. Our connection is read by a goroutine of its own, outside ebiten's loop,
// and the kernel closes it the moment the server dies, however it died. Meanwhile Xlib's
// fatal-error handler is replaced by one that holds its thread, so the watcher can end
// the match and exit with the reason (leaveOnLostDisplay).
func watchDisplay() (<-chan error, error) {
	display := os.Getenv("DISPLAY")
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connect to X display %s: %w", display, err)
	}
	C.p2paHoldOnIOError(1)
	closed := make(chan struct{})
	go func() {
		for {
			// Events and X errors: none were asked for, and none matter; (nil, nil) means
			// the connection closed.
			if ev, xerr := c.WaitForEvent(); ev == nil && xerr == nil {
				close(closed)
				return
			}
		}
	}()
	lost := make(chan error, 1)
	go func() {
		// Xlib's handler holds a thread of ours until this reports: it must report even if
		// our own connection lives on (a thread held for ever would hang the window).
		poll := time.NewTicker(ioErrorPoll)
		defer poll.Stop()
		for {
			select {
			case <-closed:
				lost <- fmt.Errorf("the connection to X display %s closed (the X server stopped)", display)
				return
			case <-poll.C:
				if C.p2paIOErrorSeenNow() != 0 {
					lost <- fmt.Errorf("the X library lost its connection to display %s", display)
					return
				}
			}
		}
	}()
	return lost, nil
}

// ioErrorPoll is how often the watcher looks whether Xlib met a fatal I/O error: often
// enough to leave well within 5 s, rarely enough to cost nothing.
const ioErrorPoll = 100 * time.Millisecond

// releaseDisplayHold lets Xlib's fatal-error handling exit the process again, for when the
// watcher gives up (it cannot end the match itself).
func releaseDisplayHold() { C.p2paHoldOnIOError(0) }
