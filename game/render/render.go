// Package render draws a p2pa game state with ebiten.
//
// The playfield (field, coins, collectors) and the overlays (score, hints, network HUD,
// screens) are drawn by separate methods. The playfield depends on the game state alone
// and is drawn without antialiasing, from sprites painted once on the CPU and placed at
// whole pixels, so two peers at the same frame draw identical pixels; tests and the
// window's -screenshot compare exactly that. The overlays depend on who is looking (the
// local player, the network) and may differ between peers.
//
// Nothing here changes a game.State: Draw methods only call its read-only accessors.
//
// Importing this package needs an X display on Linux (ebiten initialises GLFW when the
// program starts), so only the window binary and this package's tests import it.
//
// Tests: the test files carry the build tag display, and make test runs them (go test
// -tags display, under xvfb-run when DISPLAY is unset). Without the tag go test reports
// "no test files" here, so go test -short ./... passes on a machine without a display.
// A tag, not a skip: a test binary that links ebiten panics in ebiten's package init
// before TestMain or any test could look for a display, so the only way not to panic is
// not to build that binary. (The package still compiles without the tag, which needs the
// X development libraries that make deps installs.)
package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"p2pa/game"
)

// FieldColor is the colour of the empty field.
var FieldColor = color.NRGBA{59, 122, 87, 255}

// gridColor draws faint lines every gridStep pixels, offset so that the field's corners
// and border stay FieldColor.
var gridColor = color.NRGBA{55, 115, 82, 255}

const gridStep = 50

// Renderer holds the sprites and fonts. Build it once with New; its methods may be called
// every frame. A Renderer is not safe for concurrent use.
type Renderer struct {
	coin       *ebiten.Image
	collectors [game.MaxPlayers][2]*ebiten.Image // [player][collecting]
	grid       *ebiten.Image

	regular *text.GoTextFaceSource
	bold    *text.GoTextFaceSource
	mono    *text.GoTextFaceSource
}

// New paints the sprites and loads the fonts.
func New() (*Renderer, error) {
	r := &Renderer{coin: ebiten.NewImageFromImage(paintCoin())}
	for p := range r.collectors {
		for on := range 2 {
			r.collectors[p][on] = ebiten.NewImageFromImage(paintCollector(PlayerColors[p], on == 1))
		}
	}
	r.grid = ebiten.NewImageFromImage(paintGrid())
	var err error
	if r.regular, err = text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF)); err != nil {
		return nil, fmt.Errorf("render: loading Go Regular: %w", err)
	}
	if r.bold, err = text.NewGoTextFaceSource(bytes.NewReader(gobold.TTF)); err != nil {
		return nil, fmt.Errorf("render: loading Go Bold: %w", err)
	}
	if r.mono, err = text.NewGoTextFaceSource(bytes.NewReader(gomono.TTF)); err != nil {
		return nil, fmt.Errorf("render: loading Go Mono: %w", err)
	}
	return r, nil
}

// paintGrid paints the whole empty field once, so the playfield starts with one copy.
func paintGrid() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, game.Width, game.Height))
	for y := range game.Height {
		for x := range game.Width {
			c := FieldColor
			if (x%gridStep == gridStep/2) || (y%gridStep == gridStep/2) {
				c = gridColor
			}
			img.SetRGBA(x, y, color.RGBA(c))
		}
	}
	return img
}

// DrawPlayfield draws the field, the live coins and the collectors of s onto dst, whose
// top-left corner is the field's (0,0). It covers game.Width x game.Height pixels
// entirely, so dst needs no clearing. s may be nil (before the match is synchronised):
// then only the empty field is drawn.
func (r *Renderer) DrawPlayfield(dst *ebiten.Image, s *game.State) {
	dst.DrawImage(r.grid, &ebiten.DrawImageOptions{Blend: ebiten.BlendCopy})
	if s == nil {
		return
	}
	var op ebiten.DrawImageOptions
	for _, c := range s.Coins() {
		if !c.Alive {
			continue
		}
		x, y := c.Pixel()
		op.GeoM.Reset()
		op.GeoM.Translate(float64(x-game.CoinSize/2), float64(y-game.CoinSize/2))
		dst.DrawImage(r.coin, &op)
	}
	on := 0
	if s.Collecting() {
		on = 1
	}
	// Lower players are drawn last, on top: they also win a coin both collectors touch.
	for p := game.MaxPlayers - 1; p >= 0; p-- {
		x, y, ok := s.Collector(p)
		if !ok {
			continue
		}
		op.GeoM.Reset()
		op.GeoM.Translate(float64(x-game.CollectorWidth/2), float64(y-game.CollectorHeight/2))
		dst.DrawImage(r.collectors[p][on], &op)
	}
}

// Draw draws a whole frame: the playfield, the score bar and the hint for local, the
// player at this screen. Screens and the HUD are drawn on top by the caller, with
// DrawScreen and DrawHUD.
func (r *Renderer) Draw(dst *ebiten.Image, s *game.State, local int) {
	r.DrawPlayfield(dst, s)
	if s != nil {
		r.DrawScore(dst, s, local)
		r.DrawHint(dst, s, local)
	}
}

func (r *Renderer) face(src *text.GoTextFaceSource, size float64) *text.GoTextFace {
	return &text.GoTextFace{Source: src, Size: size}
}

// label draws str with its top-left corner at (x, y) (or its top-right corner, when
// alignRight), with a one-pixel dark shadow so it reads on the field and on coins.
func label(dst *ebiten.Image, str string, face text.Face, x, y float64, clr color.Color, align text.Align) {
	op := &text.DrawOptions{}
	op.PrimaryAlign = align
	op.LineSpacing = face.Metrics().HAscent + face.Metrics().HDescent + 4
	op.GeoM.Translate(x+1, y+1)
	op.ColorScale.ScaleWithColor(color.NRGBA{0, 0, 0, 200})
	text.Draw(dst, str, face, op)
	op.GeoM.Translate(-1, -1)
	op.ColorScale.Reset()
	op.ColorScale.ScaleWithColor(clr)
	text.Draw(dst, str, face, op)
}

// scoreBarHeight is the height of the translucent strip behind the score at the bottom.
const scoreBarHeight = 30

// DrawScore draws the score at the bottom left: "Score: N" in classic, every player's
// score in versus (local's marked "you"; local -1 marks nobody, for a replay), and the
// round and coins left at the right.
func (r *Renderer) DrawScore(dst *ebiten.Image, s *game.State, local int) {
	y := float32(game.Height - scoreBarHeight)
	vector.DrawFilledRect(dst, 0, y, game.Width, scoreBarHeight, color.NRGBA{0, 0, 0, 90}, false)
	face := r.face(r.bold, 18)
	ty := float64(y) + 5
	if s.Mode() == game.Classic {
		label(dst, fmt.Sprintf("Score: %d", s.TotalScore()), face, 10, ty, color.White, text.AlignStart)
	} else {
		x := 10.0
		for p := range s.Players() {
			str := fmt.Sprintf("Player %d: %d", p, s.Score(p))
			if p == local {
				str = fmt.Sprintf("You (player %d): %d", p, s.Score(p))
			}
			label(dst, str, face, x, ty, PlayerColors[p], text.AlignStart)
			w, _ := text.Measure(str, face, 0)
			x += w + 24
		}
	}
	right := fmt.Sprintf("Round %d · %d coins left", s.Round(), s.CoinsLeft())
	label(dst, right, r.face(r.regular, 16), game.Width-10, ty+1, color.NRGBA{225, 235, 228, 255}, text.AlignEnd)
}

// Hint returns the controls hint for the round's phase: what a click does now.
func Hint(s *game.State) string {
	switch s.Phase() {
	case game.Waiting:
		return "Left click to start the coins"
	case game.Moving:
		if !s.Collecting() {
			return "Right click to turn collection on"
		}
		return "Steer over the coins to collect them"
	case game.Over:
		return "Every coin collected! Left click for the next round"
	}
	return ""
}

// DrawHint draws the controls hint centred above the score bar, plus, for a player
// without a collector (classic), who steers.
func (r *Renderer) DrawHint(dst *ebiten.Image, s *game.State, local int) {
	hint := Hint(s)
	if _, _, ok := s.Collector(local); !ok && s.Mode() == game.Classic {
		hint += fmt.Sprintf(" — player %d steers the collector", classicOwner(s))
	}
	label(dst, hint, r.face(r.regular, 16), game.Width/2, game.Height-scoreBarHeight-26,
		color.NRGBA{255, 255, 255, 230}, text.AlignCenter)
}

func classicOwner(s *game.State) int {
	for p := range s.Players() {
		if _, _, ok := s.Collector(p); ok {
			return p
		}
	}
	return 0
}

// Screen is a message panel over the field: a waiting, interrupted, disconnected, desync,
// peer-left or game-over screen. The caller composes the words; Screen only lays them out.
type Screen struct {
	Title string
	// Lines are drawn under the title, one per line; an empty string is a gap.
	Lines []string
	// Code lines are drawn in a monospace font on a dark strip: commands to type.
	Code []string
	// Notes are drawn under the code, like Lines.
	Notes []string
	// Footer is drawn last, dimmer: what the player can do next.
	Footer string
	// Progress, when in 0..1, draws a progress bar (e.g. the handshake); <0 draws none.
	Progress float64
	// Accent colours the title and the bar.
	Accent color.Color
}

// DrawScreen dims the whole frame and draws sc in a centred panel.
func (r *Renderer) DrawScreen(dst *ebiten.Image, sc Screen) {
	b := dst.Bounds()
	vector.DrawFilledRect(dst, float32(b.Min.X), float32(b.Min.Y), float32(b.Dx()), float32(b.Dy()), color.NRGBA{0, 0, 0, 110}, false)

	title := r.face(r.bold, 28)
	body := r.face(r.regular, 18)
	code := r.face(r.mono, 17)
	small := r.face(r.regular, 15)
	lineH := func(f text.Face) float64 { m := f.Metrics(); return math.Ceil(m.HAscent + m.HDescent + 6) }
	const pad = 24

	// Text lines longer than the widest panel (an error that quotes two game descriptions,
	// say) are wrapped at spaces, so nothing runs past the panel's edge.
	measureBody := func(s string) float64 { w, _ := text.Measure(s, body, 0); return w }
	maxText := float64(b.Dx()-20) - 2*pad
	sc.Lines = wrapLines(sc.Lines, measureBody, maxText)
	sc.Notes = wrapLines(sc.Notes, measureBody, maxText)

	// Measure first so the panel fits its text.
	width, _ := text.Measure(sc.Title, title, 0)
	height := lineH(title) + 8
	for _, l := range sc.Lines {
		w, _ := text.Measure(l, body, 0)
		width = math.Max(width, w)
		height += lineH(body)
	}
	if len(sc.Code) > 0 {
		height += 8
		for _, l := range sc.Code {
			w, _ := text.Measure(l, code, 0)
			width = math.Max(width, w+24)
			height += lineH(code)
		}
		height += 8
	}
	for _, l := range sc.Notes {
		w, _ := text.Measure(l, body, 0)
		width = math.Max(width, w)
		height += lineH(body)
	}
	if sc.Progress >= 0 && sc.Progress <= 1 {
		height += 26
	}
	if sc.Footer != "" {
		w, _ := text.Measure(sc.Footer, small, 0)
		width = math.Max(width, w)
		height += 12 + lineH(small)
	}
	width = math.Min(width+2*pad, float64(b.Dx()-20))
	height += 2 * pad
	x0 := float64(b.Min.X) + (float64(b.Dx())-width)/2
	y0 := float64(b.Min.Y) + (float64(b.Dy())-height)/2
	accent := sc.Accent
	if accent == nil {
		accent = color.NRGBA{255, 214, 64, 255}
	}
	vector.DrawFilledRect(dst, float32(x0), float32(y0), float32(width), float32(height), color.NRGBA{18, 28, 24, 235}, false)
	vector.DrawFilledRect(dst, float32(x0), float32(y0), float32(width), 4, accent, false)

	x, y := x0+pad, y0+pad
	label(dst, sc.Title, title, x, y, accent, text.AlignStart)
	y += lineH(title) + 8
	for _, l := range sc.Lines {
		label(dst, l, body, x, y, color.NRGBA{235, 240, 236, 255}, text.AlignStart)
		y += lineH(body)
	}
	if len(sc.Code) > 0 {
		h := float64(len(sc.Code))*lineH(code) + 8
		vector.DrawFilledRect(dst, float32(x), float32(y+4), float32(width-2*pad), float32(h), color.NRGBA{0, 0, 0, 160}, false)
		y += 8
		for _, l := range sc.Code {
			label(dst, l, code, x+12, y, color.NRGBA{150, 240, 170, 255}, text.AlignStart)
			y += lineH(code)
		}
		y += 8
	}
	for _, l := range sc.Notes {
		label(dst, l, body, x, y, color.NRGBA{235, 240, 236, 255}, text.AlignStart)
		y += lineH(body)
	}
	if sc.Progress >= 0 && sc.Progress <= 1 {
		barW := width - 2*pad
		vector.DrawFilledRect(dst, float32(x), float32(y+6), float32(barW), 10, color.NRGBA{60, 70, 66, 255}, false)
		vector.DrawFilledRect(dst, float32(x), float32(y+6), float32(barW*sc.Progress), 10, accent, false)
		y += 26
	}
	if sc.Footer != "" {
		y += 12
		label(dst, sc.Footer, small, x, y, color.NRGBA{190, 200, 195, 255}, text.AlignStart)
	}
}

// wrapLines breaks every line wider than maxWidth (as width measures it) at spaces into
// lines that fit; a word wider than maxWidth on its own is broken between characters.
// Lines that fit, empty ones (gaps) included, are kept as they are.
func wrapLines(lines []string, width func(string) float64, maxWidth float64) []string {
	var out []string
	for _, l := range lines {
		if width(l) <= maxWidth {
			out = append(out, l)
			continue
		}
		cur := ""
		for _, word := range strings.Fields(l) {
			next := word
			if cur != "" {
				next = cur + " " + word
			}
			if width(next) <= maxWidth {
				cur = next
				continue
			}
			if cur != "" {
				out = append(out, cur)
			}
			// A word too long for a line of its own: as many characters as fit per line.
			for width(word) > maxWidth {
				n := 0 // the longest prefix that fits, at a character boundary
				for i := range word {
					if width(word[:i]) > maxWidth {
						break
					}
					n = i
				}
				if n == 0 {
					_, n = utf8.DecodeRuneInString(word) // one character, however narrow the panel
				}
				out = append(out, word[:n])
				word = word[n:]
			}
			cur = word
		}
		if cur != "" {
			out = append(out, cur)
		}
	}
	return out
}
