package render

import (
	"fmt"
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
)

// HUD is what the network HUD shows. The window fills it from the session's statistics;
// render knows nothing of the network code, so it can be drawn and tested on its own.
type HUD struct {
	Frame int32
	// RTTms is the latest round-trip time in milliseconds; <0 when not yet measured.
	RTTms float64
	// Advantage is how many frames this peer runs ahead of the other (negative: behind).
	Advantage float64
	// Rollback is the number of frames re-simulated in the last second.
	Rollback int
	// KbpsUp and KbpsDown are the UDP payload rates each way, in kilobits per second.
	KbpsUp, KbpsDown float64
	// Delay is the input delay in frames.
	Delay int
	// Link says how the other players were reached through a room ("direct", "relayed
	// via HOST:PORT"); empty over plain UDP, where the line is left out.
	Link string
	// History holds the last few seconds, oldest first, at a steady sample rate.
	History []Sample
	// Seconds is the time History spans, for the graph's caption.
	Seconds float64
}

// Sample is one point of the HUD graph.
type Sample struct {
	RTTms    float64 // <0: unknown
	Rollback int     // frames re-simulated since the previous sample
}

var (
	hudRTT      = color.NRGBA{110, 200, 255, 255}
	hudRollback = color.NRGBA{255, 140, 90, 255}
)

// DrawHUD draws the compact network HUD in the top-left corner.
func (r *Renderer) DrawHUD(dst *ebiten.Image, h HUD) {
	const x0, y0, w = 8, 8, 272
	const graphH = 48
	face := r.face(r.mono, 13)
	lh := math.Ceil(face.Metrics().HAscent+face.Metrics().HDescent) + 2

	rtt := "  -- "
	if h.RTTms >= 0 {
		rtt = fmt.Sprintf("%5.1f", h.RTTms)
	}
	lines := []string{
		fmt.Sprintf("frame %7d   delay %d", h.Frame, h.Delay),
		fmt.Sprintf("RTT %s ms   adv %+5.1f fr", rtt, h.Advantage),
		fmt.Sprintf("rollback %4d fr in last 1 s", h.Rollback),
		fmt.Sprintf("up %6.1f kbps down %6.1f kbps", h.KbpsUp, h.KbpsDown),
	}
	if h.Link != "" {
		lines = append(lines, "link "+h.Link)
	}
	height := float64(len(lines))*lh + graphH + 34
	vector.DrawFilledRect(dst, x0, y0, w, float32(height), color.NRGBA{0, 0, 0, 170}, false)
	y := float64(y0) + 6
	for _, l := range lines {
		label(dst, l, face, x0+8, y, color.NRGBA{230, 236, 232, 255}, text.AlignStart)
		y += lh
	}

	// The graph: rollback frames as bars from the bottom, RTT as a line, each scaled to
	// its own maximum (shown in the caption) so a quiet link still shows its shape.
	gx, gy, gw := float32(x0+8), float32(y+4), float32(w-16)
	vector.DrawFilledRect(dst, gx, gy, gw, graphH, color.NRGBA{255, 255, 255, 18}, false)
	maxRTT, maxRB := 1.0, 1
	for _, s := range h.History {
		maxRTT = math.Max(maxRTT, s.RTTms)
		maxRB = max(maxRB, s.Rollback)
	}
	n := len(h.History)
	if n > 0 {
		step := gw / float32(n)
		for i, s := range h.History {
			if s.Rollback > 0 {
				bh := float32(s.Rollback) / float32(maxRB) * graphH
				vector.DrawFilledRect(dst, gx+float32(i)*step, gy+graphH-bh, max(step-1, 1), bh, hudRollback, false)
			}
		}
		prevOK := false
		var px, py float32
		for i, s := range h.History {
			if s.RTTms < 0 {
				prevOK = false
				continue
			}
			x := gx + (float32(i)+0.5)*step
			y := gy + graphH - float32(s.RTTms/maxRTT)*(graphH-2) - 1
			if prevOK {
				vector.StrokeLine(dst, px, py, x, y, 1.5, hudRTT, false)
			}
			px, py, prevOK = x, y, true
		}
	}
	caption := fmt.Sprintf("RTT ≤%.0f ms", maxRTT)
	label(dst, caption, face, float64(gx), float64(gy+graphH+3), hudRTT, text.AlignStart)
	label(dst, fmt.Sprintf("rollback ≤%d  (%.0f s)", maxRB, h.Seconds), face, float64(gx+gw), float64(gy+graphH+3), hudRollback, text.AlignEnd)
}
