package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
)

const (
	tps = 60
	// historySeconds is how far back the HUD graph reaches; historyRate its samples/s.
	historySeconds = 6
	historyRate    = 5
)

// window is the ebiten.Game: it feeds the mouse to the session each tick and draws
// whatever state the session holds. A live match's datagrams are handed to it as they
// arrive, by a goroutine of its own (receive), not once per tick: a reply held for up to a
// tick would count in the round-trip time and skew time sync. mu serialises that goroutine
// with Update and Draw, which hold it throughout, so the session and the state they read
// never change under them.
type window struct {
	mu     sync.Mutex
	opts   options
	sess   session
	r      *render.Renderer
	stdout io.Writer

	field      *ebiten.Image // the playfield, drawn first offscreen so it can be captured
	showHUD    bool
	latched    game.Buttons // buttons pressed but not yet played in a frame
	cursorSeen bool         // the mouse has been over the field (other than at (0, 0))
	start      *game.State  // a freshly started game, for the collector's start position
	cursor     ebiten.CursorModeType
	title      string

	// HUD bookkeeping: the rollback rate over the last second and the graph's samples.
	ticks    int64
	rbSecAt  int64
	rbSec    int64
	rbPerSec int
	history  []render.Sample
	lastRB   int64

	// interruptedAt is the tick the current interruption was first seen (-1: none).
	interruptedAt int64

	announced bool  // "playing" printed
	quitAt    int64 // tick Esc was pressed (0: not yet); the match is leaving cleanly
	finished  bool
	signals   <-chan os.Signal // SIGINT/SIGTERM: treated like Esc
	err       error            // set when the session ended badly; main turns it into exit status 1

	// keepOpen keeps drawing the end screen after finish rather than ending ebiten's loop:
	// a browser page has no window to close, and its tab stays open on the outcome.
	keepOpen bool
	// onEnd, if set, is told once, at finish, the result line the session printed ("" if
	// it printed none: the match never started) and the error that ended it: the browser
	// page shows both.
	onEnd func(result string, err error)
	// onFirstDraw, if set, is called after the first Draw: the browser page marks itself
	// drawn for tests (and whoever else waits on it).
	onFirstDraw func()
}

// resultLiner is a session that prints the result line at Close (a match); ResultLine
// gives the same line again.
type resultLiner interface{ ResultLine() string }

func newWindow(opts options, sess session, r *render.Renderer, stdout io.Writer) *window {
	return &window{
		opts:          opts,
		sess:          sess,
		r:             r,
		stdout:        stdout,
		field:         ebiten.NewImage(game.Width, game.Height),
		cursor:        ebiten.CursorModeVisible,
		interruptedAt: -1,
	}
}

// readInput turns the mouse into this tick's game.Input. A button counts when it is held
// or was pressed since the last tick: a click shorter than a tick (xdotool's, or a fast
// finger) is then still seen by the simulation for one frame.
// stillUntilMoved keeps this player's collector where the game started it (on the field,
// clear of the edges) until the mouse has been over the field: before the cursor first
// enters the window ebiten reports (0, 0), or a position outside the window, which the
// game would clamp to the edge, leaving the collector half off-screen at x=0. This is
// input, not simulation: the game's start positions (and the golden checksums) stay as
// they are, and the held position goes to the peer like any other input.
func (w *window) stillUntilMoved(in game.Input) game.Input {
	if !w.cursorSeen && overField(in) {
		w.cursorSeen = true
	}
	if w.cursorSeen {
		return in
	}
	st := w.sess.State()
	if st == nil {
		// The session starts the game inside the Tick this input goes to, and plays the
		// first frame with it: hold the collector where any game starts it.
		st = w.startState()
	}
	if st != nil {
		if x, y, ok := st.Collector(w.opts.Player); ok {
			in.X, in.Y = int16(x), int16(y)
		}
	}
	return in
}

// startState is a game as the match will start it, but for the seed, which does not move
// collectors: it says where this player's collector starts. nil if the options make no game.
func (w *window) startState() *game.State {
	if w.start == nil {
		st, err := game.New(game.Config{Mode: w.opts.Mode, Coins: w.opts.Coins, Players: 2, Seed: 1})
		if err != nil {
			return nil
		}
		w.start = st
	}
	return w.start
}

// overField reports whether in's position is on the field, other than at (0, 0) (which is
// what ebiten reports before it knows where the cursor is).
func overField(in game.Input) bool {
	return (in.X != 0 || in.Y != 0) && in.X >= 0 && in.Y >= 0 && int(in.X) < game.Width && int(in.Y) < game.Height
}

func readInput() game.Input {
	x, y := ebiten.CursorPosition()
	var b game.Buttons
	if ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) || inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		b |= game.ButtonLeft
	}
	if ebiten.IsMouseButtonPressed(ebiten.MouseButtonRight) || inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonRight) {
		b |= game.ButtonRight
	}
	// The game clamps positions to the field; clamping to int16 here only keeps a cursor
	// far outside the window from wrapping around.
	return game.Input{X: clamp16(x), Y: clamp16(y), Buttons: b}
}

func clamp16(v int) int16 {
	return int16(max(-1<<15, min(1<<15-1, v)))
}

// quitGrace bounds how long Esc waits for the match to end cleanly (the peer receiving
// our last inputs and the end frame being confirmed) before closing at once. The session
// itself gives up after 3 s; this is only a backstop.
const quitGrace = 6 * tps

// receiver is a session whose datagrams can be handed over as they arrive (a live match).
type receiver interface {
	// Readable signals that datagrams are waiting.
	Readable() <-chan struct{}
	// Receive hands every waiting datagram to the session (and answers the handshake).
	Receive()
}

// receive starts handing the session's datagrams over as they arrive, if it takes them,
// until the returned stop is called (which waits for the goroutine to end).
func (w *window) receive() (stop func()) {
	rc, ok := w.sess.(receiver)
	if !ok {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-rc.Readable():
				w.mu.Lock()
				if !w.finished {
					rc.Receive()
				}
				w.mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
		})
	}
}

func (w *window) Update() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		if w.keepOpen {
			return nil
		}
		return ebiten.Termination
	}
	w.ticks++
	sig := w.signalled()
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) || ebiten.IsWindowBeingClosed() || sig != nil {
		if sig != nil {
			// Recorded even on the way out, so the exit status says a signal stopped us.
			w.sess.Stop(sig)
		}
		if w.quitAt != 0 || w.sess.Done() {
			// A second Esc, or nothing left to wait for: close now.
			return w.finish()
		}
		// Leave cleanly: the session stops adding our input, makes sure the peer has every
		// input we played, and ends at an end frame both sides agree on.
		w.sess.Quit()
		w.quitAt = w.ticks
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyF1) {
		w.showHUD = !w.showHUD
	}
	w.tick(w.stillUntilMoved(readInput()))
	v := w.sess.View()
	if v.Phase == peer.PhaseRunning && !w.announced {
		// Tools (the e2e test) wait for this line rather than guessing when play starts.
		fmt.Fprintf(w.stdout, "p2pa-window: playing at frame %d\n", v.Frame)
		w.announced = true
	}
	if v.Phase == peer.PhaseInterrupted {
		if w.interruptedAt < 0 {
			w.interruptedAt = w.ticks
		}
	} else {
		w.interruptedAt = -1
	}
	w.sampleStats(v)
	w.updateCursor(v)
	w.updateTitle(v)
	switch {
	case w.quitAt != 0 && (w.sess.Done() || w.ticks-w.quitAt > quitGrace):
		return w.finish()
	case w.opts.Frames > 0 && w.sess.Done():
		// A scripted run (-frames N) closes by itself once the match is over, as the
		// headless mode does; otherwise an ended match stays on its screen until Esc.
		return w.finish()
	}
	return nil
}

// signalled returns the SIGINT or SIGTERM that arrived since the last tick, or nil.
func (w *window) signalled() os.Signal {
	select {
	case s := <-w.signals:
		return s
	default:
		return nil
	}
}

func (w *window) updateTitle(v view) {
	t := windowTitle(w.opts, v.Peer)
	if t != w.title {
		ebiten.SetWindowTitle(t)
		w.title = t
	}
}

// tick hands the input to the session. A click can be shorter than a tick, so it shows in
// one tick's input only, and the session skips a tick now and then (a time-sync wait, or
// remote input too far behind) without taking its input: the click would be lost. So
// buttons stay latched until a frame has been played with them; a click held for a frame
// or two longer is still one click to the game, which reacts to rising edges.
func (w *window) tick(in game.Input) {
	w.latched |= in.Buttons
	in.Buttons |= w.latched
	before := int32(-1)
	if s := w.sess.State(); s != nil {
		before = s.Frame()
	}
	w.sess.Tick(in)
	// Before the match runs, clicks are dropped: a click on the waiting screen must not
	// start the coins later.
	if s := w.sess.State(); before < 0 || s == nil || s.Frame() > before {
		w.latched = 0
	}
}

// updateCursor hides the system cursor over the field while this window's mouse steers a
// collector, so the robot is the pointer; on screens the cursor is shown again.
func (w *window) updateCursor(v view) {
	want := ebiten.CursorModeVisible
	if s := w.sess.State(); s != nil && (v.Phase == peer.PhaseRunning || v.Phase == peer.PhaseInterrupted) {
		if _, _, ok := s.Collector(w.local()); ok {
			want = ebiten.CursorModeHidden
		}
	}
	if want != w.cursor {
		ebiten.SetCursorMode(want)
		w.cursor = want
	}
}

// sampleStats keeps the rollback frames of the last whole second and appends a graph
// sample historyRate times a second.
func (w *window) sampleStats(v view) {
	if w.ticks-w.rbSecAt >= tps {
		w.rbPerSec = int(v.RollbackFrames - w.rbSec)
		w.rbSecAt, w.rbSec = w.ticks, v.RollbackFrames
	}
	if w.ticks%(tps/historyRate) == 0 {
		w.history = append(w.history, render.Sample{RTTms: ms(v.RTT), Rollback: int(v.RollbackFrames - w.lastRB)})
		w.lastRB = v.RollbackFrames
		if n := historySeconds * historyRate; len(w.history) > n {
			w.history = append(w.history[:0], w.history[len(w.history)-n:]...)
		}
	}
}

// ms is d in milliseconds, or -1 for a negative (unknown) duration.
func ms(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return float64(d) / float64(time.Millisecond)
}

func (w *window) hud(v view) render.HUD {
	return render.HUD{
		Frame:     v.Frame,
		RTTms:     ms(v.RTT),
		Advantage: v.Advantage,
		Rollback:  w.rbPerSec,
		KbpsUp:    v.KbpsUp,
		KbpsDown:  v.KbpsDown,
		Delay:     w.opts.Delay,
		Link:      v.Link,
		History:   w.history,
		Seconds:   historySeconds,
	}
}

// interruption is how long the peer has been silent, counting the -interrupt time that
// passed before the session called it an interruption.
func (w *window) interruption() time.Duration {
	if w.interruptedAt < 0 {
		return 0
	}
	return w.opts.Interrupt + time.Duration(w.ticks-w.interruptedAt)*time.Second/tps
}

func (w *window) Draw(screen *ebiten.Image) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sess.State()
	v := w.sess.View()
	w.r.DrawPlayfield(w.field, s)
	screen.DrawImage(w.field, nil)
	if s != nil {
		w.r.DrawScore(screen, s, w.local())
		if v.Phase == peer.PhaseRunning && w.quitAt == 0 && !v.Replay {
			w.r.DrawHint(screen, s, w.local())
		}
	}
	if sc, ok := screenFor(w.opts, v, s, w.quitAt != 0, w.interruption()); ok {
		if v.Page && v.Notice == nil && v.Phase >= peer.PhaseDisconnected && v.Phase <= peer.PhaseFailed {
			sc = forPage(sc)
		}
		w.r.DrawScreen(screen, sc)
	}
	if w.showHUD {
		w.r.DrawHUD(screen, w.hud(v))
	}
	if w.onFirstDraw != nil {
		w.onFirstDraw()
		w.onFirstDraw = nil
	}
}

// local is the player at this screen, or -1 for a replay, which nobody steers.
func (w *window) local() int {
	if w.opts.Replay != "" {
		return -1
	}
	return w.opts.Player
}

func (w *window) Layout(int, int) (int, int) { return game.Width, game.Height }

// finish ends the session once: it closes the session, which prints the score line and
// the final line, then writes the -screenshot. It runs inside Update because ebiten can
// read pixels back only while its loop runs.
func (w *window) finish() error {
	if w.finished {
		return w.stop()
	}
	w.finished = true
	if err := w.sess.Close(); err != nil {
		w.err = err
	}
	if w.onEnd != nil {
		line := ""
		if rl, ok := w.sess.(resultLiner); ok && w.sess.State() != nil {
			line = rl.ResultLine() // Close printed it, as it does exactly when there is a state
		}
		w.onEnd(line, w.err)
	}
	if w.opts.Screenshot != "" {
		// The playfield of the state at the final line's frame, which both peers confirmed:
		// their files agree pixel for pixel.
		s, err := w.sess.FinalState()
		if err != nil {
			w.err = errors.Join(w.err, fmt.Errorf("screenshot: %w", err))
		}
		if err := w.screenshot(w.opts.Screenshot, s); err != nil {
			w.err = errors.Join(w.err, err)
		}
	}
	return w.stop()
}

// stop is what Update returns once finished: the end of ebiten's loop, or nothing when
// the window stays open on its end screen (keepOpen).
func (w *window) stop() error {
	if w.keepOpen {
		return nil
	}
	return ebiten.Termination
}

// screenshot writes the playfield of s (no overlays, so both peers' files agree pixel for
// pixel at the same frame) as a PNG. It writes a temporary file beside path and renames
// it, so a reader never sees half a file.
func (w *window) screenshot(path string, s *game.State) error {
	w.r.DrawPlayfield(w.field, s)
	img := image.NewRGBA(image.Rect(0, 0, game.Width, game.Height))
	w.field.ReadPixels(img.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("screenshot: encoding PNG: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".p2pa-shot-*.png")
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("screenshot: writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// lostDisplayGrace bounds how long a window whose display went away waits for the match to
// end cleanly (the peer acknowledging our last inputs) before it closes it at once, with a
// goodbye all the same: the whole exit stays well within 5 s of the display going away.
const lostDisplayGrace = 2500 * time.Millisecond

// leaveOnLostDisplay ends the match as Esc would, from outside ebiten's loop, whose render
// thread may be stuck for ever on the dead display (watchDisplay), and returns the exit
// status: always 1, since the match did not end as asked. why is printed to stderr first.
// The session's lock is kept to the end, so the loop, if it ever wakes, changes nothing.
func (w *window) leaveOnLostDisplay(why error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "p2pa-window: the display went away: %v; leaving the match\n", why)
	deadline := time.Now().Add(lostDisplayGrace)
	for !w.mu.TryLock() {
		// Update or Draw holds the lock: either it returns soon, or it is stuck on the
		// display itself, and then nothing can be sent safely.
		if time.Now().After(deadline) {
			fmt.Fprintln(stderr, "p2pa-window: the window is stuck on the lost display; exiting without a goodbye")
			return 1
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w.finished {
		return 1 // finish has run: the goodbye is sent and the result line printed
	}
	w.finished = true // the receive goroutine leaves the session alone from here
	w.sess.Quit()
	tick := time.NewTicker(time.Second / tps)
	defer tick.Stop()
	for !w.sess.Done() && time.Now().Before(deadline) {
		<-tick.C
		w.sess.Tick(game.Input{})
	}
	if err := w.sess.Close(); err != nil {
		fmt.Fprintf(stderr, "p2pa-window: %v\n", oneLine(err))
	}
	return 1
}

// runGame runs ebiten's loop and turns a panic inside it (GLFW or GL failing to start,
// say) into an error, so the user gets one line rather than a stack trace.
func runGame(w *window) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return ebiten.RunGame(w)
}

// windowTitle names the player and the peer, so a person (or xdotool) can tell the two
// windows apart.
func windowTitle(opts options, peerAddr string) string {
	switch {
	case opts.Replay != "":
		return fmt.Sprintf("p2pa replay %s", opts.Replay)
	case peerAddr != "":
		return fmt.Sprintf("p2pa player %d — peer %s", opts.Player, peerAddr)
	}
	if opts.Listen == "" { // a browser page: it listens on nothing
		return fmt.Sprintf("p2pa player %d", opts.Player)
	}
	return fmt.Sprintf("p2pa player %d — waiting on %s", opts.Player, opts.Listen)
}
