package game

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Game is a copy of p2pa/lockstep.Game; the assertion below keeps *State usable by the
// engine without importing it.
type Game interface {
	AdvanceFrame(inputs []byte)
	SaveState(dst []byte) []byte
	LoadState(state []byte) error
}

var _ Game = (*State)(nil)

func mustNew(t testing.TB, cfg Config) *State {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return s
}

// withCoins replaces the round's coins, keeping the state's invariants (all alive, no
// scores), so tests can put coins exactly where they need them.
func withCoins(s *State, coins ...Coin) {
	s.coins = append(s.coins[:0], coins...)
	for i := range s.coins {
		s.coins[i].Alive = true
	}
	s.left = int32(len(coins))
	s.scores = [MaxPlayers]int32{}
}

func px(v int32) int32 { return v * Scale }

func coinAt(x, y, vx, vy int32) Coin {
	return Coin{X: px(x), Y: px(y), VX: px(vx), VY: px(vy), Alive: true}
}

// moving puts s in the Moving phase with collection set as asked, without clicks.
func moving(s *State, collecting bool) {
	s.phase = Moving
	s.collecting = collecting
}

func TestBounce(t *testing.T) {
	tests := []struct {
		name string
		in   Coin
		want Coin
	}{
		{"free", coinAt(400, 300, 3, -2), coinAt(403, 298, 3, -2)},
		{"left edge", coinAt(1, 300, -3, 0), coinAt(2, 300, 3, 0)},
		{"left edge exactly", coinAt(0, 300, -3, 0), coinAt(3, 300, 3, 0)},
		{"right edge", coinAt(798, 300, 3, 0), coinAt(797, 300, -3, 0)},
		{"right edge exactly", coinAt(799, 300, 2, 0), coinAt(797, 300, -2, 0)},
		{"top edge reached", coinAt(400, 3, 1, -3), coinAt(401, 0, 1, -3)},
		{"top edge crossed", coinAt(400, 1, 1, -3), coinAt(401, 2, 1, 3)},
		{"bottom edge", coinAt(400, 598, 0, 3), coinAt(400, 597, 0, -3)},
		{"top left corner", coinAt(0, 0, -3, -3), coinAt(3, 3, 3, 3)},
		{"bottom right corner", coinAt(799, 599, 3, 3), coinAt(796, 596, -3, -3)},
		{"top right corner", coinAt(798, 1, 3, -2), coinAt(797, 1, -3, 2)},
		{"at edge moving in", coinAt(799, 0, -1, 1), coinAt(798, 1, -1, 1)},
		{"sub-pixel", Coin{X: 10, Y: px(5), VX: -20, VY: 0, Alive: true}, Coin{X: 10, Y: px(5), VX: 20, VY: 0, Alive: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, Config{Coins: 1})
			withCoins(s, tt.in)
			moving(s, false)
			s.Step(nil)
			if diff := cmp.Diff(tt.want, s.coins[0]); diff != "" {
				t.Errorf("after one frame (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEdgeJitterFixed is the prototype's bug: a coin at an edge moving outward must
// leave the edge and keep going, not flip back and forth.
func TestEdgeJitterFixed(t *testing.T) {
	s := mustNew(t, Config{Coins: 1})
	withCoins(s, coinAt(799, 300, 3, 0))
	moving(s, false)
	last := s.coins[0].X
	for f := 0; f < 50; f++ {
		s.Step(nil)
		c := s.coins[0]
		if c.VX >= 0 || c.X >= last {
			t.Fatalf("frame %d: coin %+v did not keep moving left from X=%d", f, c, last)
		}
		last = c.X
	}
}

// TestBounceOutside covers positions the simulation itself never produces, where the
// prototype's toggled velocity kept a coin oscillating outside the field.
func TestBounceOutside(t *testing.T) {
	tests := []struct {
		name      string
		x, v      int32
		wantSign  int32
		wantInner bool
	}{
		{"far right moving in", maxX + 50*Scale, -maxSpeed, -1, true},
		{"far right moving out", maxX + 50*Scale, maxSpeed, -1, true},
		{"far left moving in", -50 * Scale, maxSpeed, 1, true},
		{"far left moving out", -50 * Scale, -maxSpeed, 1, true},
		{"way beyond reflection", 3 * maxX, maxSpeed, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, v := bounce(tt.x, tt.v, maxX)
			if x < 0 || x > maxX {
				t.Errorf("bounce(%d, %d) = x %d, outside [0, %d]", tt.x, tt.v, x, maxX)
			}
			if v*tt.wantSign <= 0 {
				t.Errorf("bounce(%d, %d) = v %d, want sign %d", tt.x, tt.v, v, tt.wantSign)
			}
			// The velocity must stay inward on the next frames: no jitter.
			for f := 0; f < 5; f++ {
				x, v = bounce(x+v, v, maxX)
				if x < 0 || x > maxX {
					t.Fatalf("frame %d: x %d outside the field", f, x)
				}
			}
		})
	}
}

func TestCollisionBoundary(t *testing.T) {
	// Collector at (400, 300) covers x 384..415, y 276..323. A coin at cx covers
	// cx-6..cx+6, so it shares a pixel column when cx is in 378..421.
	tests := []struct {
		name   string
		dx, dy int32
		want   bool
	}{
		{"centre", 0, 0, true},
		{"left, sharing one pixel", -22, 0, true},
		{"left, touching without overlap", -23, 0, false},
		{"left, one pixel gap", -24, 0, false},
		{"right, sharing one pixel", 21, 0, true},
		{"right, touching without overlap", 22, 0, false},
		{"top, sharing one pixel", 0, -30, true},
		{"top, touching without overlap", 0, -31, false},
		{"bottom, sharing one pixel", 0, 29, true},
		{"bottom, touching without overlap", 0, 30, false},
		{"corner, sharing one pixel", 21, 29, true},
		{"corner, diagonal miss", 22, 29, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, Config{Mode: Classic, Players: 2, Coins: 1})
			// Sub-pixel offset inside the same pixel must not change the answer.
			for _, frac := range []int32{0, Scale - 1} {
				c := coinAt(400+tt.dx, 300+tt.dy, 0, 0)
				c.X += frac
				c.Y += frac
				withCoins(s, c)
				moving(s, true)
				s.Step([]Input{{}, {X: 400, Y: 300}})
				if got := !s.coins[0].Alive; got != tt.want {
					t.Errorf("frac %d: collected = %v, want %v", frac, got, tt.want)
				}
			}
		})
	}
}

func TestScoring(t *testing.T) {
	// Coins sit still at these spots; each collector is put on some of them.
	spots := []Coin{
		coinAt(100, 100, 0, 0),
		coinAt(105, 110, 0, 0),
		coinAt(700, 500, 0, 0),
		coinAt(300, 300, 0, 0),
		coinAt(600, 100, 0, 0),
	}
	tests := []struct {
		name   string
		cfg    Config
		inputs []Input
		scores [MaxPlayers]int
		total  int
	}{
		{
			name:   "classic: only player 1 collects",
			cfg:    Config{Mode: Classic, Players: 2},
			inputs: []Input{{X: 700, Y: 500}, {X: 100, Y: 100}},
			scores: [MaxPlayers]int{0, 2},
			total:  2,
		},
		{
			name:   "classic alone: player 0 collects",
			cfg:    Config{Mode: Classic, Players: 1},
			inputs: []Input{{X: 700, Y: 500}},
			scores: [MaxPlayers]int{1},
			total:  1,
		},
		{
			name:   "classic with 4 players: still one collector",
			cfg:    Config{Mode: Classic, Players: 4},
			inputs: []Input{{X: 700, Y: 500}, {X: 300, Y: 300}, {X: 100, Y: 100}, {X: 600, Y: 100}},
			scores: [MaxPlayers]int{0, 1},
			total:  1,
		},
		{
			name:   "versus: each player their own",
			cfg:    Config{Mode: Versus, Players: 2},
			inputs: []Input{{X: 700, Y: 500}, {X: 100, Y: 100}},
			scores: [MaxPlayers]int{1, 2},
			total:  3,
		},
		{
			name:   "versus 4 players",
			cfg:    Config{Mode: Versus, Players: 4},
			inputs: []Input{{X: 700, Y: 500}, {X: 100, Y: 100}, {X: 300, Y: 300}, {X: 600, Y: 100}},
			scores: [MaxPlayers]int{1, 2, 1, 1},
			total:  5,
		},
		{
			name:   "versus tie goes to the lower player",
			cfg:    Config{Mode: Versus, Players: 3},
			inputs: []Input{{X: 10, Y: 10}, {X: 300, Y: 300}, {X: 300, Y: 300}},
			scores: [MaxPlayers]int{0, 1, 0},
			total:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, tt.cfg)
			withCoins(s, spots...)
			moving(s, true)
			s.Step(tt.inputs)
			var got [MaxPlayers]int
			for p := range got {
				got[p] = s.Score(p)
			}
			if got != tt.scores {
				t.Errorf("scores = %v, want %v", got, tt.scores)
			}
			if s.TotalScore() != tt.total {
				t.Errorf("TotalScore = %d, want %d", s.TotalScore(), tt.total)
			}
			if s.CoinsLeft() != len(spots)-tt.total {
				t.Errorf("CoinsLeft = %d, want %d", s.CoinsLeft(), len(spots)-tt.total)
			}
		})
	}
}

func TestCollectors(t *testing.T) {
	type pos struct {
		x, y int
		ok   bool
	}
	tests := []struct {
		cfg  Config
		want [MaxPlayers]pos
	}{
		{Config{Mode: Classic, Players: 1}, [MaxPlayers]pos{{50, 50, true}}},
		{Config{Mode: Classic, Players: 2}, [MaxPlayers]pos{{}, {50, 50, true}}},
		{Config{Mode: Classic, Players: 4}, [MaxPlayers]pos{{}, {50, 50, true}}},
		{Config{Mode: Versus, Players: 1}, [MaxPlayers]pos{{750, 550, true}}},
		{Config{Mode: Versus, Players: 2}, [MaxPlayers]pos{{750, 550, true}, {50, 50, true}}},
		{Config{Mode: Versus, Players: 4}, [MaxPlayers]pos{{750, 550, true}, {50, 50, true}, {50, 550, true}, {750, 50, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Mode.String()+"/"+string(rune('0'+tt.cfg.Players)), func(t *testing.T) {
			s := mustNew(t, tt.cfg)
			var got [MaxPlayers]pos
			for p := range got {
				got[p].x, got[p].y, got[p].ok = s.Collector(p)
			}
			if got != tt.want {
				t.Errorf("collectors = %v, want %v", got, tt.want)
			}
			if _, _, ok := s.Collector(-1); ok {
				t.Error("Collector(-1) ok")
			}
			if _, _, ok := s.Collector(MaxPlayers); ok {
				t.Error("Collector(MaxPlayers) ok")
			}
		})
	}
}

func TestCollectorFollowsMouseClamped(t *testing.T) {
	tests := []struct {
		in         Input
		wantX, wan int
	}{
		{Input{X: 123, Y: 456}, 123, 456},
		{Input{X: -5, Y: -1}, 0, 0},
		{Input{X: 800, Y: 600}, 799, 599},
		{Input{X: 32767, Y: -32768}, 799, 0},
	}
	for _, tt := range tests {
		s := mustNew(t, Config{Mode: Versus})
		s.Step([]Input{tt.in, tt.in})
		for p := 0; p < 2; p++ {
			x, y, _ := s.Collector(p)
			if x != tt.wantX || y != tt.wan {
				t.Errorf("input %+v: player %d collector at (%d, %d), want (%d, %d)", tt.in, p, x, y, tt.wantX, tt.wan)
			}
		}
	}
}

// TestPhases drives a two-player classic game by clicks only: which presses start the
// coins and which turn collection on.
func TestPhases(t *testing.T) {
	const (
		L = ButtonLeft
		R = ButtonRight
	)
	type frame struct {
		p0, p1         Buttons
		wantPhase      Phase
		wantCollecting bool
	}
	tests := []struct {
		name   string
		frames []frame
	}{
		{"nothing pressed", []frame{{0, 0, Waiting, false}, {0, 0, Waiting, false}}},
		{"right before moving does nothing", []frame{
			{R, 0, Waiting, false}, {0, R, Waiting, false}, {0, 0, Waiting, false},
			{L, 0, Moving, false}, {0, 0, Moving, false},
		}},
		{"left from player 0 starts", []frame{{L, 0, Moving, false}}},
		{"left from player 1 starts", []frame{{0, L, Moving, false}}},
		{"right after moving collects", []frame{{L, 0, Moving, false}, {0, R, Moving, true}, {0, 0, Moving, true}}},
		{"right held from waiting is not a press", []frame{
			{R, 0, Waiting, false}, {R | L, 0, Moving, false}, {R, 0, Moving, false},
			{0, 0, Moving, false}, {R, 0, Moving, true},
		}},
		{"left and right together only start", []frame{{L | R, 0, Moving, false}, {L | R, 0, Moving, false}, {0, R, Moving, true}}},
		{"right click again keeps collecting", []frame{{L, R, Moving, false}, {0, 0, Moving, false}, {0, R, Moving, true}, {0, 0, Moving, true}, {R, 0, Moving, true}}},
		{"held left is one press", []frame{{L, 0, Moving, false}, {L, 0, Moving, false}, {L, L, Moving, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, Config{Mode: Classic, Players: 2, Seed: 7})
			for i, f := range tt.frames {
				// The collector sits in a corner with no coins under it.
				s.Step([]Input{{X: 0, Y: 0, Buttons: f.p0}, {X: 799, Y: 599, Buttons: f.p1}})
				if s.Phase() != f.wantPhase || s.Collecting() != f.wantCollecting {
					t.Fatalf("frame %d: phase %v collecting %v, want %v %v", i, s.Phase(), s.Collecting(), f.wantPhase, f.wantCollecting)
				}
			}
		})
	}
}

func TestCoinsStillUntilLeftClick(t *testing.T) {
	s := mustNew(t, Config{Seed: 3})
	start := append([]Coin(nil), s.Coins()...)
	for f := 0; f < 30; f++ {
		s.Step([]Input{{Buttons: ButtonRight}, {X: 400, Y: 300}})
	}
	if diff := cmp.Diff(start, s.Coins()); diff != "" {
		t.Fatalf("coins moved while waiting:\n%s", diff)
	}
	s.Step([]Input{{Buttons: ButtonLeft}, {X: 400, Y: 300}})
	moved := 0
	for i, c := range s.Coins() {
		if c != start[i] {
			moved++
		}
	}
	if moved != len(start) {
		t.Fatalf("%d of %d coins moved on the starting frame", moved, len(start))
	}
	if s.CoinsLeft() != len(start) {
		t.Fatalf("coins collected without a right click: %d left", s.CoinsLeft())
	}
}

func TestNoCollectionUntilRightClick(t *testing.T) {
	s := mustNew(t, Config{Mode: Classic, Coins: 1})
	withCoins(s, coinAt(400, 300, 1, 0))
	s.Step([]Input{{Buttons: ButtonLeft}, {X: 400, Y: 300}})
	for f := 0; f < 5; f++ {
		s.Step([]Input{{}, {X: 400, Y: 300}})
	}
	if s.CoinsLeft() != 1 {
		t.Fatal("coin collected before the right click")
	}
	s.Step([]Input{{}, {X: 400, Y: 300, Buttons: ButtonRight}})
	if s.CoinsLeft() != 0 || s.Score(1) != 1 {
		t.Fatalf("after right click: %d left, score %d", s.CoinsLeft(), s.Score(1))
	}
}

// TestRounds plays a one-coin round by inputs alone, ends it, and checks that the next
// round's coins continue the RNG stream instead of repeating the first round.
func TestRounds(t *testing.T) {
	cfg := Config{Mode: Classic, Coins: 3, Seed: 99}
	s := mustNew(t, cfg)
	round1 := append([]Coin(nil), s.Coins()...)

	// Reference: the same generator, drawing the second round straight away.
	ref := mustNew(t, cfg)
	ref.spawn()
	round2 := append([]Coin(nil), ref.Coins()...)
	if cmp.Equal(round1, round2) {
		t.Fatal("second round's coins equal the first's")
	}

	chase := func(b Buttons) []Input {
		// Player 1, the collector, follows the first live coin; player 0 clicks.
		in := []Input{{Buttons: b}, {}}
		for _, c := range s.Coins() {
			if c.Alive {
				x, y := c.Pixel()
				in[1].X, in[1].Y = int16(x), int16(y)
				break
			}
		}
		return in
	}
	s.Step(chase(ButtonLeft))
	s.Step(chase(0))
	s.Step(chase(ButtonRight))
	for f := 0; f < 10 && s.Phase() != Over; f++ {
		s.Step(chase(0))
	}
	if s.Phase() != Over {
		t.Fatalf("phase %v with %d coins left, want over", s.Phase(), s.CoinsLeft())
	}
	if s.Score(1) != 3 || s.TotalScore() != 3 {
		t.Fatalf("final scores %d/%d, want 3/3", s.Score(1), s.TotalScore())
	}
	// Over: nothing moves, the final score stays, right clicks do nothing.
	frozen := append([]Coin(nil), s.Coins()...)
	for f := 0; f < 5; f++ {
		s.Step([]Input{{Buttons: ButtonRight * Buttons(f%2)}, {}})
	}
	if s.Phase() != Over || s.TotalScore() != 3 || !cmp.Equal(frozen, s.Coins()) {
		t.Fatal("state changed after the round was over")
	}

	s.Step([]Input{{}, {Buttons: ButtonLeft}})
	if s.Phase() != Waiting || s.Round() != 2 || s.Collecting() || s.TotalScore() != 0 || s.CoinsLeft() != 3 {
		t.Fatalf("after the new round's click: phase %v round %d collecting %v total %d left %d",
			s.Phase(), s.Round(), s.Collecting(), s.TotalScore(), s.CoinsLeft())
	}
	if diff := cmp.Diff(round2, s.Coins()); diff != "" {
		t.Fatalf("second round's coins (-want +got):\n%s", diff)
	}
	// The held left button must not also start the coins.
	s.Step([]Input{{}, {Buttons: ButtonLeft}})
	if s.Phase() != Waiting {
		t.Fatal("the new-round click also started the coins")
	}
}

func TestSpawn(t *testing.T) {
	s := mustNew(t, Config{Coins: MaxCoins, Seed: 1})
	var seenVX, seenVY [2*MaxSpeed + 1]int
	minX, maxXp, minY, maxYp := Width, -1, Height, -1
	for i, c := range s.Coins() {
		if c.X%Scale != 0 || c.Y%Scale != 0 || c.VX%Scale != 0 || c.VY%Scale != 0 || !c.Alive {
			t.Fatalf("coin %d %+v: not whole pixels or not alive", i, c)
		}
		if c.VX == 0 && c.VY == 0 {
			t.Fatalf("coin %d has zero velocity", i)
		}
		x, y := c.Pixel()
		if x < 0 || x >= Width || y < 0 || y >= Height {
			t.Fatalf("coin %d at (%d, %d) outside the field", i, x, y)
		}
		minX, maxXp = min(minX, x), max(maxXp, x)
		minY, maxYp = min(minY, y), max(maxYp, y)
		seenVX[c.VX/Scale+MaxSpeed]++
		seenVY[c.VY/Scale+MaxSpeed]++
	}
	if minX != 0 || maxXp != Width-1 || minY != 0 || maxYp != Height-1 {
		t.Errorf("positions span x %d..%d y %d..%d, want the whole field", minX, maxXp, minY, maxYp)
	}
	for v := range seenVX {
		if seenVX[v] == 0 || seenVY[v] == 0 {
			t.Errorf("velocity %d never drawn (vx %v vy %v)", v-MaxSpeed, seenVX, seenVY)
		}
	}
}

func TestInputEncoding(t *testing.T) {
	tests := []struct {
		in   Input
		want []byte
	}{
		{Input{}, []byte{0, 0, 0, 0, 0}},
		{Input{X: 799, Y: 599, Buttons: ButtonLeft | ButtonRight}, []byte{0x1f, 0x03, 0x57, 0x02, 3}},
		{Input{X: -1, Y: -32768, Buttons: ButtonRight}, []byte{0xff, 0xff, 0x00, 0x80, 2}},
		{Input{X: 32767, Y: 1, Buttons: ButtonLeft}, []byte{0xff, 0x7f, 0x01, 0x00, 1}},
	}
	for _, tt := range tests {
		got, err := tt.in.AppendBinary([]byte{0xaa})
		if err != nil {
			t.Fatalf("%+v.AppendBinary: %v", tt.in, err)
		}
		if !cmp.Equal(got, append([]byte{0xaa}, tt.want...)) {
			t.Errorf("%+v.AppendBinary = %x, want aa%x", tt.in, got, tt.want)
		}
		back, err := ParseInput(got[1:])
		if err != nil || back != tt.in {
			t.Errorf("ParseInput(%x) = %+v, %v; want %+v", got[1:], back, err, tt.in)
		}
	}
	if b, err := (Input{Buttons: 4}).AppendBinary(nil); err == nil || len(b) != 0 {
		t.Errorf("AppendBinary with unknown buttons = %x, %v; want error and nothing appended", b, err)
	}
	for _, b := range [][]byte{nil, {1, 2, 3, 4}, {1, 2, 3, 4, 0, 6}, {0, 0, 0, 0, 4}, {0, 0, 0, 0, 0xff}} {
		if in, err := ParseInput(b); err == nil {
			t.Errorf("ParseInput(%x) = %+v, want error", b, in)
		}
	}
}

// TestAdvanceFrameTotal feeds bytes that ParseInput rejects; the simulation must still
// read them as some input.
func TestAdvanceFrameTotal(t *testing.T) {
	tests := []struct {
		name   string
		bytes  []byte
		x0, y0 int
		x1, y1 int
		phase  Phase
	}{
		{"all ones", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0, 0, 0, 0, Moving},
		{"huge positions, unknown buttons only", []byte{0xff, 0x7f, 0xff, 0x7f, 0xfc, 0x10, 0x00, 0x20, 0x00, 0x80}, 799, 599, 16, 32, Waiting},
		{"short: player 1 missing", []byte{10, 0, 20, 0, 1, 9, 9}, 10, 20, 0, 0, Moving},
		{"empty", nil, 0, 0, 0, 0, Waiting},
		{"too long", []byte{1, 0, 2, 0, 0, 3, 0, 4, 0, 0, 5, 5, 5}, 1, 2, 3, 4, Waiting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, Config{Mode: Versus, Players: 2})
			s.AdvanceFrame(tt.bytes)
			x0, y0, _ := s.Collector(0)
			x1, y1, _ := s.Collector(1)
			if x0 != tt.x0 || y0 != tt.y0 || x1 != tt.x1 || y1 != tt.y1 {
				t.Errorf("collectors (%d,%d) (%d,%d), want (%d,%d) (%d,%d)", x0, y0, x1, y1, tt.x0, tt.y0, tt.x1, tt.y1)
			}
			if s.Phase() != tt.phase {
				t.Errorf("phase %v, want %v", s.Phase(), tt.phase)
			}
			for p, b := range s.prev {
				if b&^buttonMask != 0 {
					t.Errorf("player %d kept unknown button bits %#x", p, b)
				}
			}
			if _, err := Decode(mustSave(s)); err != nil {
				t.Errorf("state after garbage input does not reload: %v", err)
			}
		})
	}
}

func TestStepInputCount(t *testing.T) {
	a := mustNew(t, Config{Mode: Versus, Players: 3, Seed: 5})
	b := mustNew(t, Config{Mode: Versus, Players: 3, Seed: 5})
	a.Step([]Input{{X: 1, Y: 2, Buttons: ButtonLeft}})
	b.Step([]Input{{X: 1, Y: 2, Buttons: ButtonLeft}, {}, {}, {X: 9, Y: 9}, {X: 9, Y: 9}})
	if a.Checksum() != b.Checksum() {
		t.Fatalf("missing inputs are not zero inputs / extra inputs not ignored:\n%s", cmp.Diff(a, b, cmpOptions))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string // substring; "" means valid
	}{
		{Config{}, ""},
		{Config{Mode: Versus, Coins: MaxCoins, Players: MaxPlayers}, ""},
		{Config{Coins: 1, Players: 1}, ""},
		{Config{Mode: 2}, "Config.Mode"},
		{Config{Mode: 255}, "Config.Mode"},
		{Config{Players: -1}, "Config.Players"},
		{Config{Players: MaxPlayers + 1}, "Config.Players"},
		{Config{Coins: -1}, "Config.Coins"},
		{Config{Coins: MaxCoins + 1}, "Config.Coins"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%+v.Validate() = %v, want nil", tt.cfg, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%+v.Validate() = %v, want error naming %s", tt.cfg, err, tt.wantErr)
		}
		s, err2 := New(tt.cfg)
		if (err == nil) != (err2 == nil) || (err2 == nil) != (s != nil) {
			t.Errorf("New(%+v) = %v, %v disagrees with Validate", tt.cfg, s, err2)
		}
	}
	s := mustNew(t, Config{})
	if s.Mode() != Classic || s.Players() != 2 || len(s.Coins()) != DefaultCoins || s.Round() != 1 || s.Frame() != 0 {
		t.Errorf("defaults: mode %v players %d coins %d round %d frame %d", s.Mode(), s.Players(), len(s.Coins()), s.Round(), s.Frame())
	}
}

func TestNames(t *testing.T) {
	for _, m := range []Mode{Classic, Versus} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if m, err := ParseMode(" VERSUS "); err != nil || m != Versus {
		t.Errorf("ParseMode(VERSUS) = %v, %v", m, err)
	}
	for _, s := range []string{"", "coop", "classicx"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q) succeeded", s)
		}
	}
	want := map[string]string{
		Mode(7).String(): "Mode(7)", Waiting.String(): "waiting", Moving.String(): "moving",
		Over.String(): "over", Phase(9).String(): "Phase(9)",
	}
	for got, w := range want {
		if got != w {
			t.Errorf("String() = %q, want %q", got, w)
		}
	}
}

func TestAccessorsOutOfRange(t *testing.T) {
	s := mustNew(t, Config{})
	if s.Score(-1) != 0 || s.Score(MaxPlayers) != 0 {
		t.Error("Score out of range is not 0")
	}
	var zero State
	zero.Step([]Input{{Buttons: ButtonLeft}})
	zero.AdvanceFrame([]byte{1, 2, 3})
	_ = zero.Checksum()
	if _, err := Decode(mustSave(&zero)); err == nil {
		t.Error("a zero State's byte form loaded")
	}
}
