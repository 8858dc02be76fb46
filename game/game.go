package game

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
)

// Field and limits. Positions on the field are whole pixels 0..Width-1 and 0..Height-1.
const (
	Width        = 800
	Height       = 600
	DefaultCoins = 50
	// MaxCoins bounds the coin count so that a byte form read from the network can never
	// ask for more than MaxCoins*coinSize bytes.
	MaxCoins   = 100000
	MaxPlayers = 4
	// InputSize is the length of one player's encoded Input.
	InputSize = 5
)

// Fixed point and hit boxes.
const (
	// Scale is the number of fixed-point units per pixel in Coin positions and velocities.
	Scale      = 1 << scaleShift
	scaleShift = 8
	// MaxSpeed is the largest per-axis coin speed in whole pixels per frame.
	MaxSpeed = 3
	// CoinSize is the side of a coin's square hit box. The box is centred on the coin's
	// whole-pixel position: it covers x-CoinSize/2 .. x+CoinSize/2 inclusive.
	CoinSize = 13
	// CollectorWidth and CollectorHeight give a collector's hit box. Both are even, so
	// "centred" puts the extra pixel before the position: the box covers
	// x-CollectorWidth/2 .. x+CollectorWidth/2-1 and likewise for y.
	CollectorWidth  = 32
	CollectorHeight = 48
)

const (
	maxX     = (Width - 1) * Scale
	maxY     = (Height - 1) * Scale
	maxSpeed = MaxSpeed * Scale
	coinHalf = CoinSize / 2
)

// Mode selects who has a collector and how the score is kept.
type Mode uint8

const (
	// Classic is the prototype: one collector (player 1's, or player 0's when alone) and one
	// shared score.
	Classic Mode = iota
	// Versus gives every player a collector and a score of their own.
	Versus
)

func (m Mode) String() string {
	switch m {
	case Classic:
		return "classic"
	case Versus:
		return "versus"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode accepts the names String returns, in any case.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "classic":
		return Classic, nil
	case "versus":
		return Versus, nil
	}
	return 0, fmt.Errorf("game: unknown mode %q (want classic or versus)", s)
}

// Config describes a match. The zero value of Coins and Players selects the default.
type Config struct {
	Mode    Mode
	Coins   int
	Players int
	Seed    uint64
}

func (c Config) withDefaults() Config {
	if c.Coins == 0 {
		c.Coins = DefaultCoins
	}
	if c.Players == 0 {
		c.Players = 2
	}
	return c
}

// Validate reports the first field that is out of range once defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Mode != Classic && c.Mode != Versus {
		return fmt.Errorf("game: Config.Mode = %d: unknown mode", uint8(c.Mode))
	}
	if c.Players < 1 || c.Players > MaxPlayers {
		return fmt.Errorf("game: Config.Players = %d: want 1..%d (0 means 2)", c.Players, MaxPlayers)
	}
	if c.Coins < 1 || c.Coins > MaxCoins {
		return fmt.Errorf("game: Config.Coins = %d: want 1..%d (0 means %d)", c.Coins, MaxCoins, DefaultCoins)
	}
	return nil
}

// Buttons is the set of mouse buttons held during a frame.
type Buttons uint8

const (
	ButtonLeft  Buttons = 1 << 0
	ButtonRight Buttons = 1 << 1
	buttonMask          = ButtonLeft | ButtonRight
)

// Input is one player's input for one frame: the mouse position in field pixels and the
// buttons held. The position may lie outside the field; the game clamps it.
type Input struct {
	X, Y    int16
	Buttons Buttons
}

// AppendBinary appends the 5-byte wire form: x int16 LE, y int16 LE, buttons. It fails
// only for buttons the game does not know, so that a sender's bug surfaces at the sender
// rather than being masked by the receiver.
func (in Input) AppendBinary(b []byte) ([]byte, error) {
	if in.Buttons&^buttonMask != 0 {
		return b, fmt.Errorf("game: Input.Buttons = %#x has unknown bits", uint8(in.Buttons))
	}
	return append(b, byte(in.X), byte(uint16(in.X)>>8), byte(in.Y), byte(uint16(in.Y)>>8), byte(in.Buttons)), nil
}

// ParseInput is the strict decoder, the inverse of AppendBinary. The simulation itself
// never uses it: AdvanceFrame decodes totally instead.
func ParseInput(b []byte) (Input, error) {
	if len(b) != InputSize {
		return Input{}, fmt.Errorf("game: input is %d bytes, want %d", len(b), InputSize)
	}
	in := decodeInput(b)
	if in.Buttons&^buttonMask != 0 {
		return Input{}, fmt.Errorf("game: input buttons %#x have unknown bits", b[4])
	}
	return in, nil
}

func decodeInput(b []byte) Input {
	_ = b[4]
	return Input{
		X:       int16(uint16(b[0]) | uint16(b[1])<<8),
		Y:       int16(uint16(b[2]) | uint16(b[3])<<8),
		Buttons: Buttons(b[4]),
	}
}

// Phase is where a round is.
type Phase uint8

const (
	// Waiting: coins are placed but still; a left click starts them.
	Waiting Phase = iota
	// Moving: coins bounce; a right click turns collection on.
	Moving
	// Over: every coin is collected; a left click starts the next round.
	Over
)

func (p Phase) String() string {
	switch p {
	case Waiting:
		return "waiting"
	case Moving:
		return "moving"
	case Over:
		return "over"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Coin is one coin. X and Y are in 1/Scale pixel units and stay within
// [0, (Width-1)*Scale] and [0, (Height-1)*Scale]; VX and VY are 1/Scale pixels per frame.
// A collected coin keeps its last position with Alive false, so the coin slice and the
// byte form keep one length for the whole round. Live coins always come first:
// Coins()[:CoinsLeft()] are exactly the live ones, in no meaningful order (collecting
// a coin swaps it with the last live one).
//
// The blank field makes Coin's padding explicit, so a []Coin is exactly the coin records of
// the byte form on little-endian machines and the state saves with one copy.
// It is always zero: nothing outside this package can set it and nothing inside does.
type Coin struct {
	X, Y, VX, VY int32
	Alive        bool
	_            [3]byte
}

// Pixel returns the coin's position in whole pixels (the centre of its hit box).
func (c Coin) Pixel() (x, y int) { return int(c.X >> scaleShift), int(c.Y >> scaleShift) }

type collector struct {
	X, Y int32 // whole pixels, inside the field
	On   bool  // derived from mode and players; not in the byte form
}

// State is the whole simulation: everything Step reads is here, and all of it but the
// derived fields goes into the byte form.
type State struct {
	mode       Mode
	players    int32
	frame      int32
	phase      Phase
	collecting bool
	round      int32
	rng        rand.PCG
	prev       [MaxPlayers]Buttons
	col        [MaxPlayers]collector
	scores     [MaxPlayers]int32
	coins      []Coin
	left       int32 // alive coins; derived
}

// pcgStream is the fixed second PCG seed word, so Config.Seed alone picks the stream.
const pcgStream = 0x7032_7061_636f_696e // "p2pacoin"

// New places the first round's coins from cfg.Seed.
func New(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &State{
		mode:    cfg.Mode,
		players: int32(cfg.Players),
		round:   1,
		coins:   make([]Coin, cfg.Coins),
	}
	s.rng.Seed(cfg.Seed, pcgStream)
	for p := range s.col {
		x, y, ok := collectorStart(s.mode, s.players, p)
		s.col[p] = collector{X: x, Y: y, On: ok}
	}
	s.spawn()
	return s, nil
}

// collectorStart says whether player p has a collector and where it starts. In classic
// the prototype's collector is player 1's; a lone player gets it instead.
func collectorStart(m Mode, players int32, p int) (x, y int32, ok bool) {
	if p < 0 || int32(p) >= players {
		return 0, 0, false
	}
	if m == Classic {
		owner := 1
		if players < 2 {
			owner = 0
		}
		if p != owner {
			return 0, 0, false
		}
		return 50, 50, true
	}
	switch p {
	case 0:
		return 750, 550, true
	case 1:
		return 50, 50, true
	case 2:
		return 50, 550, true
	default:
		return 750, 50, true
	}
}

// uintn draws uniformly from [0, n) with Lemire's multiply-and-reject. It is written
// here rather than taken from rand.Rand because IntN there switches to a 32-bit
// algorithm on 32-bit platforms, which would give 386 different coins from amd64.
func (s *State) uintn(n uint64) uint64 {
	hi, lo := bits.Mul64(s.rng.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.rng.Uint64(), n)
		}
	}
	return hi
}

// spawn places every coin of a round. Each coin takes three draws: x, y, then one of the
// 48 non-zero velocity pairs in -3..3 (a coin still on both axes would never bounce
// and, once collection is on, could only be collected by walking onto it, which the
// prototype never intended; one draw over 48 keeps the stream use fixed per coin).
func (s *State) spawn() {
	const span = 2*MaxSpeed + 1
	for i := range s.coins {
		x := int32(s.uintn(Width))
		y := int32(s.uintn(Height))
		v := int32(s.uintn(span*span - 1))
		if v >= (span*span-1)/2 {
			v++ // skip the centre cell, (0, 0)
		}
		s.coins[i] = Coin{
			X:     x * Scale,
			Y:     y * Scale,
			VX:    (v/span - MaxSpeed) * Scale,
			VY:    (v%span - MaxSpeed) * Scale,
			Alive: true,
		}
	}
	s.left = int32(len(s.coins))
}

func clamp32(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Step runs one frame. inputs[p] is player p's input; missing entries count as the zero
// Input and extra ones are ignored. Inputs are clamped and masked, so any value is safe.
//
// Order within a frame: buttons' rising edges are found and collectors follow the
// mouse; then the phase reacts to the edges as it stood at the start of the frame (so a
// right click in the same frame as the starting left click does not count); then, while
// moving, coins move and are collected.
func (s *State) Step(inputs []Input) {
	var rise Buttons
	n := min(int(s.players), MaxPlayers)
	for p := 0; p < n; p++ {
		var in Input
		if p < len(inputs) {
			in = inputs[p]
		}
		b := in.Buttons & buttonMask
		rise |= b &^ s.prev[p]
		s.prev[p] = b
		if s.col[p].On {
			s.col[p].X = clamp32(int32(in.X), 0, Width-1)
			s.col[p].Y = clamp32(int32(in.Y), 0, Height-1)
		}
	}
	switch s.phase {
	case Waiting:
		if rise&ButtonLeft != 0 {
			s.phase = Moving
		}
	case Moving:
		if rise&ButtonRight != 0 {
			s.collecting = true
		}
	case Over:
		if rise&ButtonLeft != 0 {
			s.newRound()
		}
	}
	if s.phase == Moving {
		s.move()
	}
	s.frame++
}

func (s *State) newRound() {
	s.spawn()
	s.scores = [MaxPlayers]int32{}
	s.round++
	s.phase = Waiting
	s.collecting = false
}

// box is a collector's hit box grown by the coin's half size and turned into fixed-point
// bounds on the coin's position: the coin overlaps when 0 <= X-x0 <= w and likewise for
// y. Comparing unsigned differences makes each axis one compare that is false for most
// coins, so the inner loop's branches predict well.
type box struct {
	x0, y0 int32
	w, h   uint32
	owner  int32
}

// move advances every live coin one frame and, while collecting, removes the coins that
// overlap a collector. When several collectors overlap a coin the lowest player wins.
func (s *State) move() {
	var boxes [MaxPlayers]box
	nb := 0
	if s.collecting {
		for p := range s.col {
			c := &s.col[p]
			if !c.On {
				continue
			}
			// Pixel boxes overlap when they share a pixel:
			// coin [cx-6, cx+6], collector [x-16, x+15] → cx in [x-22, x+21].
			// cx = X/Scale (X >= 0), so cx >= a ⇔ X >= a*Scale and cx <= b ⇔ X <= b*Scale+Scale-1.
			x0 := (c.X - CollectorWidth/2 - coinHalf) * Scale
			x1 := (c.X+CollectorWidth/2-1+coinHalf)*Scale + Scale - 1
			y0 := (c.Y - CollectorHeight/2 - coinHalf) * Scale
			y1 := (c.Y+CollectorHeight/2-1+coinHalf)*Scale + Scale - 1
			boxes[nb] = box{x0: x0, y0: y0, w: uint32(x1 - x0), h: uint32(y1 - y0), owner: int32(p)}
			nb++
		}
	}
	// Live coins are kept in coins[:left]; a collected coin is swapped to the end of that
	// prefix. The loop then never meets a dead coin, whose unpredictable Alive branch
	// cost more than the motion itself once collection had thinned the field.
	coins := s.coins[:s.left]
	if nb == 0 {
		// Nothing can be collected: only motion, in a loop with no hit test, which at
		// 100,000 coins runs in well under half the time of the general one.
		for i := range coins {
			c := &coins[i]
			x, y, vx, vy := c.X+c.VX, c.Y+c.VY, c.VX, c.VY
			if uint32(x) > maxX {
				x, vx = bounce(x, vx, maxX)
			}
			if uint32(y) > maxY {
				y, vy = bounce(y, vy, maxY)
			}
			c.X, c.Y, c.VX, c.VY = x, y, vx, vy
		}
	}
	// The general loop, with collection; it does nothing once the loop above has run.
	for i := 0; nb > 0 && i < len(coins); {
		c := &coins[i]
		// Work on locals and store once: the compiler then keeps them in registers, and
		// the single unsigned compare per axis sends only coins off the field (rare)
		// to bounce.
		x, y, vx, vy := c.X+c.VX, c.Y+c.VY, c.VX, c.VY
		if uint32(x) > maxX {
			x, vx = bounce(x, vx, maxX)
		}
		if uint32(y) > maxY {
			y, vy = bounce(y, vy, maxY)
		}
		c.X, c.Y, c.VX, c.VY = x, y, vx, vy
		hit := false
		for k := 0; k < nb; k++ {
			b := &boxes[k]
			if uint32(x-b.x0) <= b.w && uint32(y-b.y0) <= b.h {
				s.scores[b.owner]++
				hit = true
				break
			}
		}
		if !hit {
			i++
			continue
		}
		// coins[last] has not moved yet this frame; it takes slot i, which is
		// processed again.
		last := len(coins) - 1
		coins[i], coins[last] = coins[last], coins[i]
		coins[last].Alive = false
		coins = coins[:last]
	}
	s.left = int32(len(coins))
	if s.left <= 0 {
		s.phase = Over
	}
}

// bounce reflects a position that left [0, hi] back inside and points the velocity
// inward. The prototype only negated the velocity, so a coin outside the field flipped
// direction every frame and jittered at the edge forever. Here the velocity's sign is
// set, not toggled, and the position is clamped as well, so a coin can never stay
// outside or at an edge moving outward.
func bounce(x, v, hi int32) (int32, int32) {
	if x < 0 {
		x = -x
		if v < 0 {
			v = -v
		}
	} else if x > hi {
		x = 2*hi - x
		if v > 0 {
			v = -v
		}
	}
	return clamp32(x, 0, hi), v
}

// AdvanceFrame decodes players*InputSize bytes and steps. Decoding is total: short input
// leaves the missing players at the zero Input, unknown button bits are dropped and
// positions are clamped by Step.
func (s *State) AdvanceFrame(inputs []byte) {
	var in [MaxPlayers]Input
	n := min(int(s.players), MaxPlayers)
	for p := 0; p < n; p++ {
		off := p * InputSize
		if off+InputSize > len(inputs) {
			break
		}
		in[p] = decodeInput(inputs[off : off+InputSize])
	}
	s.Step(in[:n])
}

// Read-only accessors for renderers and tools.

// Frame is the number of Steps since New.
func (s *State) Frame() int32 { return s.frame }

// Mode is the match's mode.
func (s *State) Mode() Mode { return s.mode }

// Players is the number of players.
func (s *State) Players() int { return int(s.players) }

// Phase is the round's phase.
func (s *State) Phase() Phase { return s.phase }

// Collecting reports whether a right click has turned collection on in this round.
func (s *State) Collecting() bool { return s.collecting }

// Round counts rounds, starting at 1.
func (s *State) Round() int32 { return s.round }

// Coins returns the round's coins, collected ones included (Alive false), in fixed point;
// use Coin.Pixel for whole pixels. The slice is the state's own: callers must not modify
// it, and it is valid only until the next Step or LoadState.
func (s *State) Coins() []Coin { return s.coins }

// CoinsLeft is the number of coins not yet collected.
func (s *State) CoinsLeft() int { return int(s.left) }

// Collector returns player p's collector position in whole pixels (the centre of its hit
// box), and false when p has none.
func (s *State) Collector(p int) (x, y int, ok bool) {
	if p < 0 || p >= MaxPlayers || !s.col[p].On {
		return 0, 0, false
	}
	return int(s.col[p].X), int(s.col[p].Y), true
}

// Score returns player p's coins collected this round. In classic only the collector's
// owner scores, so it equals TotalScore for that player and is 0 for the others.
func (s *State) Score(p int) int {
	if p < 0 || p >= MaxPlayers {
		return 0
	}
	return int(s.scores[p])
}

// TotalScore is the coins collected this round by everyone: the score in classic. It is
// kept after the round ends until the next one starts.
func (s *State) TotalScore() int {
	t := 0
	for _, v := range s.scores {
		t += int(v)
	}
	return t
}
