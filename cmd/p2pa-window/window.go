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
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"p2pa/game"
	"p2pa/game/render"
)

const (
	tps = 60
	// historySeconds is how far back the HUD graph reaches; historyRate its samples/s.
	historySeconds = 6
	historyRate    = 5
)

// window is the ebiten.Game: it feeds the mouse to the session each tick and draws
// whatever state the session holds.
type window struct {
	opts   options
	sess   session
	r      *render.Renderer
	stdout io.Writer

	field   *ebiten.Image // the playfield, drawn first offscreen so it can be captured
	showHUD bool
	cursor  ebiten.CursorModeType

	// HUD bookkeeping: per-second counters are rates over the last second of ticks.
	ticks   int64
	lastSec struct {
		at                 int64 // tick of the last sample
		rollback, up, down int64
	}
	perSec  struct{ rollback, up, down float64 }
	history []render.Sample
	lastRB  int64

	announced bool // "playing" printed
	finished  bool
	err       error // set when the session ended badly; main turns it into exit status 1
}

func newWindow(opts options, sess session, r *render.Renderer, stdout io.Writer) *window {
	return &window{
		opts:   opts,
		sess:   sess,
		r:      r,
		stdout: stdout,
		field:  ebiten.NewImage(game.Width, game.Height),
		cursor: ebiten.CursorModeVisible,
	}
}

// readInput turns the mouse into this tick's game.Input. A button counts when it is held
// or was pressed since the last tick: a click shorter than a tick (xdotool's, or a fast
// finger) is then still seen by the simulation for one frame.
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

func (w *window) Update() error {
	if w.finished {
		return ebiten.Termination
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) || ebiten.IsWindowBeingClosed() {
		return w.finish()
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyF1) {
		w.showHUD = !w.showHUD
	}
	w.sess.Tick(readInput())
	w.ticks++
	v := w.sess.View()
	if v.Phase == phaseRunning && !w.announced {
		// Tools (the e2e test) wait for this line rather than guessing when play starts.
		fmt.Fprintf(w.stdout, "p2pa-window: playing at frame %d\n", v.Frame)
		w.announced = true
	}
	w.sampleStats(v)
	w.updateCursor(v)
	// With -frames N the window closes by itself once N frames are confirmed, as the
	// headless mode does; a session that ended otherwise stays on its screen until Esc.
	if w.opts.Frames > 0 && w.sess.Done() && v.Phase == phaseDone {
		return w.finish()
	}
	return nil
}

// updateCursor hides the system cursor over the field while this window's mouse steers a
// collector, so the robot is the pointer; on screens the cursor is shown again.
func (w *window) updateCursor(v view) {
	want := ebiten.CursorModeVisible
	if s := w.sess.State(); s != nil && (v.Phase == phaseRunning || v.Phase == phaseInterrupted) {
		if _, _, ok := s.Collector(w.opts.Player); ok {
			want = ebiten.CursorModeHidden
		}
	}
	if want != w.cursor {
		ebiten.SetCursorMode(want)
		w.cursor = want
	}
}

// sampleStats turns the session's cumulative counters into per-second rates once a second
// and appends a graph sample historyRate times a second.
func (w *window) sampleStats(v view) {
	if w.ticks-w.lastSec.at >= tps {
		w.perSec.rollback = float64(v.RollbackFrames - w.lastSec.rollback)
		w.perSec.up = float64(v.BytesUp-w.lastSec.up) * 8 / 1000
		w.perSec.down = float64(v.BytesDn-w.lastSec.down) * 8 / 1000
		w.lastSec.at, w.lastSec.rollback, w.lastSec.up, w.lastSec.down = w.ticks, v.RollbackFrames, v.BytesUp, v.BytesDn
	}
	if w.ticks%(tps/historyRate) == 0 {
		rtt := -1.0
		if v.RTT >= 0 {
			rtt = float64(v.RTT) / float64(time.Millisecond)
		}
		w.history = append(w.history, render.Sample{RTTms: rtt, Rollback: int(v.RollbackFrames - w.lastRB)})
		w.lastRB = v.RollbackFrames
		if n := historySeconds * historyRate; len(w.history) > n {
			w.history = append(w.history[:0], w.history[len(w.history)-n:]...)
		}
	}
}

func (w *window) hud(v view) render.HUD {
	rtt := -1.0
	if v.RTT >= 0 {
		rtt = float64(v.RTT) / float64(time.Millisecond)
	}
	return render.HUD{
		Frame:     v.Frame,
		RTTms:     rtt,
		Advantage: v.Advantage,
		Rollback:  int(w.perSec.rollback),
		KbpsUp:    w.perSec.up,
		KbpsDown:  w.perSec.down,
		Delay:     v.Delay,
		History:   w.history,
		Seconds:   historySeconds,
	}
}

func (w *window) Draw(screen *ebiten.Image) {
	s := w.sess.State()
	v := w.sess.View()
	w.r.DrawPlayfield(w.field, s)
	screen.DrawImage(w.field, nil)
	if s != nil {
		w.r.DrawScore(screen, s, w.opts.Player)
		if v.Phase == phaseRunning {
			w.r.DrawHint(screen, s, w.opts.Player)
		}
	}
	if sc, ok := screenFor(w.opts, v, s); ok {
		w.r.DrawScreen(screen, sc)
	}
	if w.showHUD {
		w.r.DrawHUD(screen, w.hud(v))
	}
}

func (w *window) Layout(int, int) (int, int) { return game.Width, game.Height }

// finish ends the session once: it prints the score line, closes the session (which
// prints the final line) and writes the -screenshot. It runs inside Update because
// ebiten can read pixels back only while its loop runs.
func (w *window) finish() error {
	if w.finished {
		return ebiten.Termination
	}
	w.finished = true
	s := w.sess.State()
	if s != nil {
		// Before the final line, which tools read last: the score at the frame drawn.
		fmt.Fprintf(w.stdout, "score=%d\n", s.TotalScore())
	}
	if err := w.sess.Close(); err != nil {
		w.err = fmt.Errorf("closing the session: %w", err)
	}
	if w.opts.Screenshot != "" {
		if err := w.screenshot(w.opts.Screenshot, w.sess.State()); err != nil {
			w.err = errors.Join(w.err, err)
		}
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
