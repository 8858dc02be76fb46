package game

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/google/go-cmp/cmp"

	"p2pa/internal/xxh64"
)

// Byte form, version 2. All integers little-endian except inside the PCG state, which is
// math/rand/v2's own 20-byte binary form ("pcg:" + two big-endian words).
//
//	off size
//	  0   4  magic "P2PA"
//	  4   1  version (2)
//	  5   1  mode
//	  6   1  players (1..MaxPlayers)
//	  7   1  phase
//	  8   1  collecting (0 or 1)
//	  9   4  coin count (1..MaxCoins)
//	 13   4  frame
//	 17   4  round
//	 21  20  RNG
//	 41      players × 9: held buttons last frame (1), collector x (2), y (2), score (4)
//	         coins × 20: X, Y, VX, VY (4 each), alive (1), 3 zero bytes; live coins first
//
// Every byte is checked on load and every field has one encoding, so a state that loads
// saves back to the same bytes and two peers agree on its checksum.
//
// A coin record is Coin's own memory layout on a little-endian machine (four int32s, the
// bool, the blank padding field, no hidden padding: coins_le.go checks it at compile time),
// so saving and loading the coins, the bulk of a large state, is one copy there; other
// machines encode coin by coin (coins_be.go) to the same bytes. Version 1 had 17-byte
// records, whose encoding cost more than the frame's simulation at 100,000 coins.
const (
	magic      = "P2PA"
	version    = 2
	headerSize = 41
	playerSize = 9
	coinSize   = 20
	pcgSize    = 20
)

func stateSize(players, coins int) int {
	return headerSize + players*playerSize + coins*coinSize
}

// encodeHead writes the header and the player records into b, which must be exactly
// headerSize+players*playerSize long.
func (s *State) encodeHead(b []byte) {
	copy(b[0:4], magic)
	b[4] = version
	b[5] = byte(s.mode)
	b[6] = byte(s.players)
	b[7] = byte(s.phase)
	b[8] = 0
	if s.collecting {
		b[8] = 1
	}
	binary.LittleEndian.PutUint32(b[9:], uint32(len(s.coins)))
	binary.LittleEndian.PutUint32(b[13:], uint32(s.frame))
	binary.LittleEndian.PutUint32(b[17:], uint32(s.round))
	// AppendBinary into a slice with room never allocates and never fails for PCG.
	_, _ = s.rng.AppendBinary(b[21:21:headerSize])
	off := headerSize
	for p := 0; p < int(s.players); p++ {
		r := b[off : off+playerSize]
		r[0] = byte(s.prev[p])
		binary.LittleEndian.PutUint16(r[1:], uint16(s.col[p].X))
		binary.LittleEndian.PutUint16(r[3:], uint16(s.col[p].Y))
		binary.LittleEndian.PutUint32(r[5:], uint32(s.scores[p]))
		off += playerSize
	}
}

// putCoin writes one coin record, field by field: the portable encoding, which putCoins
// must match byte for byte.
func putCoin(r []byte, c *Coin) {
	_ = r[coinSize-1]
	binary.LittleEndian.PutUint32(r[0:], uint32(c.X))
	binary.LittleEndian.PutUint32(r[4:], uint32(c.Y))
	binary.LittleEndian.PutUint32(r[8:], uint32(c.VX))
	binary.LittleEndian.PutUint32(r[12:], uint32(c.VY))
	r[16] = 0
	if c.Alive {
		r[16] = 1
	}
	r[17], r[18], r[19] = 0, 0, 0
}

// getCoin fills c from a record LoadState has validated. It writes through a pointer field
// by field: building a Coin value and copying it made the compiler stage it on the stack
// with overlapping stores, and the loads after them stalled.
func getCoin(c *Coin, r []byte) {
	_ = r[coinSize-1]
	c.X = int32(binary.LittleEndian.Uint32(r[0:]))
	c.Y = int32(binary.LittleEndian.Uint32(r[4:]))
	c.VX = int32(binary.LittleEndian.Uint32(r[8:]))
	c.VY = int32(binary.LittleEndian.Uint32(r[12:]))
	c.Alive = r[16] == 1
}

// SaveState appends the byte form to dst and returns it. It does not allocate when dst has
// room, and it does not hash: the engine hashes saved bytes only when it needs a checksum
// (codec.StateChecksum, the same XXH64 as Checksum).
func (s *State) SaveState(dst []byte) []byte {
	start := len(dst)
	size := stateSize(int(s.players), len(s.coins))
	dst = slices.Grow(dst, size)[:start+size]
	b := dst[start:]
	head := headerSize + int(s.players)*playerSize
	s.encodeHead(b[:head])
	putCoins(b[head:], s.coins)
	return dst
}

// Checksum is XXH64 (seed 0) of the byte form SaveState writes, which is what the engine's
// checksum (codec.StateChecksum) gives for those bytes: result lines, recordings and desync
// reports all speak of one checksum. It hashes the header from a stack buffer and the
// coins in place, so it does not allocate.
func (s *State) Checksum() uint64 {
	var head [headerSize + MaxPlayers*playerSize]byte
	n := headerSize + int(s.players)*playerSize
	s.encodeHead(head[:n])
	d := xxh64.New()
	d.Write(head[:n])
	hashCoins(&d, s.coins)
	return d.Sum64()
}

// ErrState wraps every reason LoadState rejects a byte form.
var ErrState = errors.New("game: bad state")

func stateErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrState}, args...)...)
}

// HeaderSize is how many bytes of a saved state EncodedSize needs.
const HeaderSize = headerSize

// EncodedSize reads the header of a saved state (its first HeaderSize bytes, or fewer for
// a short file) and returns the length the whole state must have. It checks what says how
// long a state is (magic, version, players, coin count), so a reader can refuse a file
// that is not a state, or not as long as its header says, before reading the rest.
func EncodedSize(head []byte) (int, error) {
	switch {
	case len(head) >= 4 && string(head[0:4]) != magic:
		return 0, stateErr("magic %q, want %q", head[0:4], magic)
	case len(head) < headerSize:
		return 0, stateErr("%d bytes, shorter than the %d-byte header", len(head), headerSize)
	case head[4] != version:
		return 0, stateErr("version %d, want %d", head[4], version)
	}
	players := int(head[6])
	if players < 1 || players > MaxPlayers {
		return 0, stateErr("players %d, want 1..%d", players, MaxPlayers)
	}
	n := binary.LittleEndian.Uint32(head[9:])
	if n < 1 || n > MaxCoins {
		return 0, stateErr("coin count %d, want 1..%d", n, MaxCoins)
	}
	return stateSize(players, int(n)), nil
}

// LoadState replaces s with the byte form b. Everything is checked before s is touched,
// so on error s is unchanged; the coin count is checked against MaxCoins and the exact
// length before anything is allocated. s's coin slice is reused when large enough.
func (s *State) LoadState(b []byte) error {
	if len(b) < headerSize {
		return stateErr("%d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[0:4]) != magic {
		return stateErr("magic %q, want %q", b[0:4], magic)
	}
	if b[4] != version {
		return stateErr("version %d, want %d", b[4], version)
	}
	mode := Mode(b[5])
	if mode != Classic && mode != Versus {
		return stateErr("unknown mode %d", b[5])
	}
	players := int32(b[6])
	if players < 1 || players > MaxPlayers {
		return stateErr("players %d, want 1..%d", players, MaxPlayers)
	}
	phase := Phase(b[7])
	if phase > Over {
		return stateErr("unknown phase %d", b[7])
	}
	if b[8] > 1 {
		return stateErr("collecting byte %d, want 0 or 1", b[8])
	}
	collecting := b[8] == 1
	if collecting && phase == Waiting {
		return stateErr("collecting while waiting")
	}
	n32 := binary.LittleEndian.Uint32(b[9:])
	if n32 < 1 || n32 > MaxCoins {
		return stateErr("coin count %d, want 1..%d", n32, MaxCoins)
	}
	n := int(n32)
	if want := stateSize(int(players), n); len(b) != want {
		return stateErr("%d bytes, want %d for %d players and %d coins", len(b), want, players, n)
	}
	frame := int32(binary.LittleEndian.Uint32(b[13:]))
	round := int32(binary.LittleEndian.Uint32(b[17:]))
	var rng rand.PCG
	if err := rng.UnmarshalBinary(b[21:headerSize]); err != nil {
		return stateErr("rng: %v", err)
	}

	var (
		prev   [MaxPlayers]Buttons
		col    [MaxPlayers]collector
		scores [MaxPlayers]int32
		scored int64
	)
	off := headerSize
	for p := 0; p < int(players); p++ {
		r := b[off : off+playerSize]
		off += playerSize
		prev[p] = Buttons(r[0])
		if prev[p]&^buttonMask != 0 {
			return stateErr("player %d buttons %#x have unknown bits", p, r[0])
		}
		x := int32(binary.LittleEndian.Uint16(r[1:]))
		y := int32(binary.LittleEndian.Uint16(r[3:]))
		sc := binary.LittleEndian.Uint32(r[5:])
		_, _, on := collectorStart(mode, players, p)
		switch {
		case on && (x >= Width || y >= Height):
			return stateErr("player %d collector (%d, %d) outside the field", p, x, y)
		case !on && (x != 0 || y != 0):
			return stateErr("player %d has no collector but position (%d, %d)", p, x, y)
		case !on && sc != 0:
			return stateErr("player %d has no collector but score %d", p, sc)
		case sc > n32:
			return stateErr("player %d score %d exceeds %d coins", p, sc, n)
		}
		col[p] = collector{X: x, Y: y, On: on}
		scores[p] = int32(sc)
		scored += int64(sc)
	}

	alive := int64(n) - scored
	if alive < 0 {
		return stateErr("scores add up to %d, more than %d coins", scored, n)
	}
	switch {
	case phase == Over && alive != 0:
		return stateErr("round over with %d coins alive", alive)
	case phase != Over && alive == 0:
		return stateErr("no coins alive in phase %v", phase)
	case phase == Waiting && alive != int64(n):
		return stateErr("%d coins collected while waiting", int64(n)-alive)
	}

	// Validate every coin before writing any, so a bad last coin leaves s untouched. The
	// fast scan only finds the first bad record; the loop below then says what is wrong
	// with it.
	coinBytes := b[off:]
	if bad := firstBadCoin(coinBytes, int(alive)); bad >= 0 {
		i := bad
		r := coinBytes[i*coinSize : (i+1)*coinSize : (i+1)*coinSize]
		x := int32(binary.LittleEndian.Uint32(r[0:]))
		y := int32(binary.LittleEndian.Uint32(r[4:]))
		vx := int32(binary.LittleEndian.Uint32(r[8:]))
		vy := int32(binary.LittleEndian.Uint32(r[12:]))
		// One unsigned compare per range: negatives wrap to huge values.
		if uint32(x) > maxX || uint32(y) > maxY ||
			uint32(vx+maxSpeed) > 2*maxSpeed || uint32(vy+maxSpeed) > 2*maxSpeed {
			return stateErr("coin %d position (%d, %d) velocity (%d, %d) out of range", i, x, y, vx, vy)
		}
		// The scores say how many coins are live, and live coins come first; the alive
		// byte and the three zero bytes after it are checked in one compare.
		want := uint32(0)
		if int64(i) < alive {
			want = 1
		}
		if got := binary.LittleEndian.Uint32(r[16:]); got != want {
			if got > 0xff {
				return stateErr("coin %d padding % x, want zeros", i, r[17:20])
			}
			return stateErr("coin %d alive byte %d, want %d: %d collected, so coins 0..%d are live", i, r[16], want, scored, alive-1)
		}
		return stateErr("coin %d rejected for no reason the report knows", i) // unreachable while the two checks agree
	}

	coins := s.coins
	if cap(coins) >= n {
		coins = coins[:n]
	} else {
		coins = make([]Coin, n)
	}
	getCoins(coins, coinBytes)
	*s = State{
		mode:       mode,
		players:    players,
		frame:      frame,
		phase:      phase,
		collecting: collecting,
		round:      round,
		rng:        rng,
		prev:       prev,
		col:        col,
		scores:     scores,
		coins:      coins,
		left:       int32(alive),
	}
	return nil
}

// firstBadCoin returns the index of the first coin record in recs that LoadState must
// reject, or -1. Records 0..alive-1 must be live (alive word 1), the rest collected (0); the
// alive byte and the three zero bytes after it are one little-endian word. It is the only
// per-coin work of a load, so it is kept to one pass of loads and never-taken branches.
func firstBadCoin(recs []byte, alive int) int {
	i := 0
	for ; len(recs) >= coinSize; i++ {
		r := (*[coinSize]byte)(recs)
		want := uint32(0)
		if i < alive {
			want = 1
		}
		// One unsigned compare per range: negatives wrap to huge values.
		if binary.LittleEndian.Uint32(r[0:]) > maxX || binary.LittleEndian.Uint32(r[4:]) > maxY ||
			binary.LittleEndian.Uint32(r[8:])+maxSpeed > 2*maxSpeed ||
			binary.LittleEndian.Uint32(r[12:])+maxSpeed > 2*maxSpeed ||
			binary.LittleEndian.Uint32(r[16:]) != want {
			return i
		}
		recs = recs[coinSize:]
	}
	return -1
}

// Decode returns a new State from a byte form.
func Decode(b []byte) (*State, error) {
	s := new(State)
	if err := s.LoadState(b); err != nil {
		return nil, err
	}
	return s, nil
}

// cmpOptions let go-cmp see inside State and the PCG, whose fields are unexported.
var cmpOptions = cmp.Options{
	cmp.AllowUnexported(State{}, rand.PCG{}, Coin{}),
}

// Diff decodes two byte forms and returns go-cmp's report of the fields that differ
// ("-a +b"), or "" when the states are equal. It is for desync reports, not hot paths.
func Diff(a, b []byte) (string, error) {
	sa, err := Decode(a)
	if err != nil {
		return "", fmt.Errorf("first state: %w", err)
	}
	sb, err := Decode(b)
	if err != nil {
		return "", fmt.Errorf("second state: %w", err)
	}
	return cmp.Diff(sa, sb, cmpOptions), nil
}
