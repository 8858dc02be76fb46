//go:build display

package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"p2pa/game"
)

// ReadPixels works only while ebiten's game loop runs (v2.8), so the tests run inside
// Update, on the main thread, as ebiten's own tests do. This needs an X display, hence the
// display build tag (see the package doc): make test runs go test -tags display under
// xvfb-run when DISPLAY is unset.
type testLoop struct {
	m    *testing.M
	code int
}

func (g *testLoop) Update() error {
	g.code = g.m.Run()
	return ebiten.Termination
}

func (*testLoop) Draw(*ebiten.Image)         {}
func (*testLoop) Layout(int, int) (int, int) { return 64, 64 }

func TestMain(m *testing.M) {
	ebiten.SetWindowSize(64, 64)
	ebiten.SetWindowTitle("p2pa render test")
	g := &testLoop{m: m, code: 1}
	if err := ebiten.RunGame(g); err != nil {
		os.Stderr.WriteString("render test: running the ebiten loop: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(g.code)
}

func pixels(img *ebiten.Image) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	img.ReadPixels(out.Pix)
	return out
}

// testState returns a classic state with a few coins, started and stepped a few frames
// with collection on, so coins, a lit collector and movement are all covered.
func testState(t *testing.T) *game.State {
	t.Helper()
	s, err := game.New(game.Config{Mode: game.Classic, Coins: 12, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	in := []game.Input{{X: 400, Y: 300}, {X: 400, Y: 300}}
	s.Step(in)
	in[0].Buttons = game.ButtonLeft
	s.Step(in)
	in[0].Buttons = game.ButtonRight
	s.Step(in)
	for range 5 {
		s.Step(in)
	}
	return s
}

func TestPlayfieldPixels(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	s := testState(t)
	before := snapshot(s)

	dst := ebiten.NewImage(game.Width, game.Height)
	r.DrawPlayfield(dst, s)
	a := pixels(dst)

	if got := a.RGBAAt(0, 0); got != color.RGBA(FieldColor) {
		t.Errorf("corner pixel = %v, want the field colour %v", got, FieldColor)
	}
	if got := a.RGBAAt(game.Width-1, game.Height-1); got != color.RGBA(FieldColor) {
		t.Errorf("far corner pixel = %v, want the field colour %v", got, FieldColor)
	}

	checked := 0
	for i, c := range s.Coins() {
		if !c.Alive || covered(s, i) {
			continue
		}
		x, y := c.Pixel()
		if got := a.RGBAAt(x, y); got != color.RGBA(CoinFace) {
			t.Errorf("coin %d centre (%d,%d) = %v, want %v", i, x, y, got, CoinFace)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no uncovered coin to check")
	}
	x, y, ok := s.Collector(1)
	if !ok {
		t.Fatal("classic state has no collector for player 1")
	}
	// The robot's body is drawn in the player's colour (shaded) around its head's top.
	if got := a.RGBAAt(x, y-game.CollectorHeight/2+7); got != color.RGBA(PlayerColors[1]) {
		t.Errorf("collector head pixel = %v, want player 1's colour %v", got, PlayerColors[1])
	}

	// Drawing again, even over a dirty image, gives the same pixels: the playfield covers
	// the whole field and uses no antialiasing.
	dst.Fill(color.NRGBA{255, 0, 255, 255})
	r.DrawPlayfield(dst, s)
	b := pixels(dst)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("drawing the same state twice gave different pixels")
	}
	// So does a fresh Renderer, as on the other peer.
	r2, err := New()
	if err != nil {
		t.Fatal(err)
	}
	dst2 := ebiten.NewImage(game.Width, game.Height)
	r2.DrawPlayfield(dst2, s)
	if !bytes.Equal(a.Pix, pixels(dst2).Pix) {
		t.Error("a second Renderer drew the same state differently")
	}

	if after := snapshot(s); !bytes.Equal(before, after) {
		t.Error("drawing changed the game state")
	}
	savePNG(t, "playfield.png", a)
}

// covered reports whether coin i's box overlaps a collector or an earlier-drawn coin
// does not matter, but a later coin or any collector would hide its centre.
func covered(s *game.State, i int) bool {
	coins := s.Coins()
	cx, cy := coins[i].Pixel()
	for j := i + 1; j < len(coins); j++ {
		if !coins[j].Alive {
			continue
		}
		x, y := coins[j].Pixel()
		if abs(x-cx) <= game.CoinSize/2 && abs(y-cy) <= game.CoinSize/2 {
			return true
		}
	}
	for p := range game.MaxPlayers {
		x, y, ok := s.Collector(p)
		if ok && cx >= x-game.CollectorWidth/2 && cx < x+game.CollectorWidth/2 &&
			cy >= y-game.CollectorHeight/2 && cy < y+game.CollectorHeight/2 {
			return true
		}
	}
	return false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// snapshot is everything a renderer can read, to prove that drawing leaves it alone.
func snapshot(s *game.State) []byte {
	var b []byte
	for _, c := range s.Coins() {
		b = fmt.Appendf(b, "%+v;", c)
	}
	for p := range game.MaxPlayers {
		x, y, ok := s.Collector(p)
		b = fmt.Appendf(b, "%d,%d,%v,%d;", x, y, ok, s.Score(p))
	}
	return fmt.Appendf(b, "%d %v %v %d", s.Frame(), s.Phase(), s.Collecting(), s.Round())
}

// TestOverlays draws every overlay over a full frame: they must not touch the state, and
// the picture is saved for a person to look at when RENDER_PNG_DIR is set.
func TestOverlays(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	s := testState(t)
	before := snapshot(s)
	dst := ebiten.NewImage(game.Width, game.Height)
	r.Draw(dst, s, 0)
	hist := make([]Sample, 40)
	for i := range hist {
		hist[i] = Sample{RTTms: 20 + float64(i%7), Rollback: i % 5}
	}
	r.DrawHUD(dst, HUD{Frame: s.Frame(), RTTms: 23.4, Advantage: -0.5, Rollback: 12, KbpsUp: 14.2, KbpsDown: 13.9, Delay: 2, History: hist, Seconds: 5})
	savePNG(t, "frame-hud.png", pixels(dst))

	r.Draw(dst, s, 1)
	r.DrawScreen(dst, Screen{
		Title:    "Waiting for the other player",
		Lines:    []string{"This machine: 192.168.1.20:7000", "On the other machine, type:"},
		Code:     []string{"p2pa -p 1 -peer 192.168.1.20:7000"},
		Progress: 0.4,
		Footer:   "Esc quits.",
	})
	savePNG(t, "screen.png", pixels(dst))

	vs, err := game.New(game.Config{Mode: game.Versus, Coins: 30, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	vs.Step([]game.Input{{X: 300, Y: 200, Buttons: game.ButtonLeft}, {X: 500, Y: 400}})
	r.Draw(dst, vs, 1)
	savePNG(t, "versus.png", pixels(dst))
	if after := snapshot(s); !bytes.Equal(before, after) {
		t.Error("drawing overlays changed the game state")
	}
}

func savePNG(t *testing.T, name string, img image.Image) {
	dir := os.Getenv("RENDER_PNG_DIR")
	if dir == "" {
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("wrote", p)
}

// TestWrapLines: a line wider than the panel is broken at spaces into lines that each fit,
// losing no word; lines that fit and gaps stay as they are; a word wider than the panel is
// broken between characters.
func TestWrapLines(t *testing.T) {
	width := func(s string) float64 { return float64(10 * len([]rune(s))) }
	for _, tc := range []struct {
		name string
		in   []string
		max  float64
		want []string
	}{
		{"fits", []string{"short", "", "also short"}, 100, []string{"short", "", "also short"}},
		{"wraps", []string{"the match at 127.0.0.1:7000 plays -mode versus"}, 150,
			[]string{"the match at", "127.0.0.1:7000", "plays -mode", "versus"}},
		{"long word", []string{"ab abcdefghij"}, 40, []string{"ab", "abcd", "efgh", "ij"}},
		{"narrow", []string{"héllo"}, 5, []string{"h", "é", "l", "l", "o"}},
	} {
		got := wrapLines(tc.in, width, tc.max)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
