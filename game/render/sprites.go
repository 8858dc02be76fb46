package render

import (
	"image"
	"image/color"
	"math"

	"p2pa/game"
)

// The sprites are painted in Go on the CPU, once, rather than with ebiten's vector
// package: the playfields of two peers must agree pixel for pixel, and GPU antialiasing
// was seen to differ by one in edge pixels between two draws of the same frame. Painted
// here, the smooth edges are plain pixel data, and drawing them at whole-pixel offsets
// with nearest filtering copies them exactly.

// supersample is the number of samples per pixel along each axis for edge coverage.
const supersample = 4

// canvas accumulates premultiplied colour in float64 so that layered shapes blend once,
// without rounding between layers.
type canvas struct {
	w, h int
	px   []float64 // r, g, b, a per pixel, premultiplied, 0..1
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, px: make([]float64, 4*w*h)}
}

// fill paints col over every pixel part covered by inside, which is asked at sample
// points in pixel coordinates (the pixel (0,0) spans 0..1 on both axes).
func (c *canvas) fill(inside func(x, y float64) bool, col color.NRGBA) {
	const n = supersample
	for py := 0; py < c.h; py++ {
		for px := 0; px < c.w; px++ {
			hits := 0
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					if inside(float64(px)+(float64(sx)+0.5)/n, float64(py)+(float64(sy)+0.5)/n) {
						hits++
					}
				}
			}
			if hits == 0 {
				continue
			}
			a := float64(col.A) / 255 * float64(hits) / (n * n)
			p := c.px[4*(py*c.w+px):]
			p[0] = float64(col.R)/255*a + p[0]*(1-a)
			p[1] = float64(col.G)/255*a + p[1]*(1-a)
			p[2] = float64(col.B)/255*a + p[2]*(1-a)
			p[3] = a + p[3]*(1-a)
		}
	}
}

func (c *canvas) image() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	for i, v := range c.px {
		img.Pix[i] = uint8(math.Round(v * 255))
	}
	return img
}

func disc(cx, cy, r float64) func(x, y float64) bool {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

func ellipse(cx, cy, rx, ry float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		dx, dy := (x-cx)/rx, (y-cy)/ry
		return dx*dx+dy*dy <= 1
	}
}

// roundRect is the rectangle x0..x1, y0..y1 with corners of radius r.
func roundRect(x0, y0, x1, y1, r float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func not(f func(x, y float64) bool) func(x, y float64) bool {
	return func(x, y float64) bool { return !f(x, y) }
}

func and(fs ...func(x, y float64) bool) func(x, y float64) bool {
	return func(x, y float64) bool {
		for _, f := range fs {
			if !f(x, y) {
				return false
			}
		}
		return true
	}
}

// Colours of the coin; CoinFace is the colour at the coin's centre pixel (tests use it).
var (
	coinRim  = color.NRGBA{168, 112, 12, 255}
	coinBody = color.NRGBA{244, 190, 36, 255}
	// CoinFace is the colour of a coin's centre pixel.
	CoinFace  = color.NRGBA{255, 214, 64, 255}
	coinShine = color.NRGBA{255, 248, 200, 255}
)

// paintCoin paints a coin the size of its hit box, game.CoinSize square, so that the coin
// a player sees is exactly the area that can be collected.
func paintCoin() *image.RGBA {
	const s = game.CoinSize
	const m = s / 2.0
	c := newCanvas(s, s)
	c.fill(disc(m, m, m), coinRim)
	c.fill(disc(m, m, m-1.2), coinBody)
	// An embossed inner ring: a darker band with a bright disc inside.
	c.fill(and(disc(m, m, m-2.6), not(disc(m, m, m-3.6))), color.NRGBA{214, 150, 22, 255})
	c.fill(disc(m, m, m-3.6), CoinFace)
	c.fill(ellipse(m-2.2, m-2.4, 1.6, 1.1), coinShine)
	return c.image()
}

// PlayerColors are the collectors' body colours, one per player, also used for the
// players' scores. They avoid gold (coins) and green (field).
var PlayerColors = [game.MaxPlayers]color.NRGBA{
	{66, 135, 245, 255}, // player 0: blue
	{240, 96, 64, 255},  // player 1: red-orange
	{178, 102, 230, 255},
	{64, 214, 222, 255},
}

func shade(c color.NRGBA, f float64) color.NRGBA {
	sc := func(v uint8) uint8 { return uint8(math.Min(255, math.Round(float64(v)*f))) }
	return color.NRGBA{sc(c.R), sc(c.G), sc(c.B), c.A}
}

// paintCollector paints a small robot exactly the size of a collector's hit box
// (game.CollectorWidth x game.CollectorHeight). When collecting, its antenna, chest and
// arms light up gold, so both players see that collection is on.
func paintCollector(body color.NRGBA, collecting bool) *image.RGBA {
	const w, h = game.CollectorWidth, game.CollectorHeight
	c := newCanvas(w, h)
	dark := color.NRGBA{34, 38, 48, 255}
	metal := color.NRGBA{150, 158, 170, 255}
	light := color.NRGBA{120, 128, 140, 255}
	eyes := color.NRGBA{140, 235, 255, 255}
	if collecting {
		light = coinBody
		eyes = CoinFace
	}
	// Antenna.
	c.fill(roundRect(15, 2, 17, 7, 0.5), metal)
	c.fill(disc(16, 3, 2.6), light)
	// Arms, behind the body.
	c.fill(roundRect(0.5, 24, 6, 37, 2.5), metal)
	c.fill(roundRect(26, 24, 31.5, 37, 2.5), metal)
	c.fill(roundRect(0.5, 33, 6, 38, 2.5), light)
	c.fill(roundRect(26, 33, 31.5, 38, 2.5), light)
	// Wheels.
	c.fill(roundRect(6, 39, 14, 47.5, 2.5), dark)
	c.fill(roundRect(18, 39, 26, 47.5, 2.5), dark)
	// Head with a visor and two eyes.
	c.fill(roundRect(5, 6, 27, 22, 4.5), body)
	c.fill(roundRect(8, 9.5, 24, 17.5, 3.5), dark)
	c.fill(disc(12.5, 13.5, 2.3), eyes)
	c.fill(disc(19.5, 13.5, 2.3), eyes)
	// Body with a coin slot and a chest light.
	c.fill(roundRect(4, 23, 28, 42, 4.5), shade(body, 0.78))
	c.fill(roundRect(4, 23, 28, 25.5, 1.5), shade(body, 0.92))
	c.fill(roundRect(11, 28, 21, 30.5, 1.2), dark)
	c.fill(disc(16, 36, 3), light)
	return c.image()
}
