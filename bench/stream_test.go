package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"p2pa/game"
	"p2pa/internal/bot"
)

// The 2020 prototype kept one simulation and streamed its result: every frame, the
// position of every remaining coin, as the MessagePack message {"updates": [[x, y], ...]}.
// The encoder below writes that message per the MessagePack spec
// (https://github.com/msgpack/msgpack/blob/master/spec.md), always in the shortest form, as
// the usual libraries do: fixmap, fixstr, fixarray or array 16/32, and integers as positive
// or negative fixint, uint 8/16/32/64 or int 8/16/32/64.

func mpMap(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

func mpArray(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

func mpString(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func mpInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= math.MaxInt8:
		return append(b, byte(v)) // positive fixint
	case v >= -32 && v < 0:
		return append(b, byte(v)) // negative fixint, 0xe0..0xff
	case v > 0 && v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v > 0 && v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v > 0 && v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	case v > 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// streamMsgpack appends the prototype's message for the live coins: their whole-pixel
// positions, as the prototype sent them.
func streamMsgpack(b []byte, coins []game.Coin, live int) []byte {
	b = mpMap(b, 1)
	b = mpString(b, "updates")
	b = mpArray(b, live)
	for i := range coins {
		if !coins[i].Alive {
			continue
		}
		x, y := coins[i].Pixel()
		b = mpArray(b, 2)
		b = mpInt(b, int64(x))
		b = mpInt(b, int64(y))
	}
	return b
}

// streamBinary appends the same content packed tight: a uint16 count, then x and y of each
// live coin as uint16s (the field is 800×600 pixels), little-endian.
func streamBinary(b []byte, coins []game.Coin, live int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(live))
	for i := range coins {
		if !coins[i].Alive {
			continue
		}
		x, y := coins[i].Pixel()
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
		b = binary.LittleEndian.AppendUint16(b, uint16(y))
	}
	return b
}

func TestMsgpackEncoding(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0x00}}, {127, []byte{0x7f}}, {128, []byte{0xcc, 0x80}}, {255, []byte{0xcc, 0xff}},
		{256, []byte{0xcd, 0x01, 0x00}}, {65535, []byte{0xcd, 0xff, 0xff}},
		{65536, []byte{0xce, 0x00, 0x01, 0x00, 0x00}}, {1 << 32, []byte{0xcf, 0, 0, 0, 1, 0, 0, 0, 0}},
		{-1, []byte{0xff}}, {-32, []byte{0xe0}}, {-33, []byte{0xd0, 0xdf}}, {-128, []byte{0xd0, 0x80}},
		{-129, []byte{0xd1, 0xff, 0x7f}}, {-32769, []byte{0xd2, 0xff, 0xff, 0x7f, 0xff}},
		{math.MinInt64, []byte{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}},
	} {
		if got := mpInt(nil, c.v); !bytes.Equal(got, c.want) {
			t.Errorf("int %d: % x, want % x", c.v, got, c.want)
		}
	}
	coins := []game.Coin{{X: 1 << 8, Y: 300 << 8, Alive: true}, {Alive: false}, {X: 200 << 8, Y: 100 << 8, Alive: true}}
	want := []byte{0x81, 0xa7, 'u', 'p', 'd', 'a', 't', 'e', 's', 0x92,
		0x92, 0x01, 0xcd, 0x01, 0x2c,
		0x92, 0xcc, 0xc8, 0x64}
	if got := streamMsgpack(nil, coins, 2); !bytes.Equal(got, want) {
		t.Errorf("message: % x\nwant     % x", got, want)
	}
	if got := mpArray(nil, 16); !bytes.Equal(got, []byte{0xdc, 0x00, 0x10}) {
		t.Errorf("array of 16: % x", got)
	}
	if got := mpArray(nil, 70000); !bytes.Equal(got, []byte{0xdd, 0x00, 0x01, 0x11, 0x70}) {
		t.Errorf("array of 70000: % x", got)
	}
	if got := mpString(nil, string(make([]byte, 40)))[:2]; !bytes.Equal(got, []byte{0xd9, 40}) {
		t.Errorf("str of 40: % x", got)
	}
	if got := mpMap(nil, 20); !bytes.Equal(got, []byte{0xde, 0x00, 0x14}) {
		t.Errorf("map of 20: % x", got)
	}
	if got := streamBinary(nil, coins, 2); !bytes.Equal(got, []byte{2, 0, 1, 0, 44, 1, 200, 0, 100, 0}) {
		t.Errorf("binary: % x", got)
	}
}

// streamSize is the mean size of one frame's stream, in each encoding.
type streamSize struct{ msgpack, binary float64 }

// streamResult sizes the prototype's stream over a bot-played match.
type streamResult struct {
	full  streamSize // frames with every coin moving: the prototype's figure of ~306 bytes
	match streamSize // every frame of the match
	live  float64    // coins in play per frame, over the match
	// sample is the first frame with every coin moving, for the encoding benchmark.
	sample *game.State
}

var streamRuns onceCache[int, streamResult]

// streamRun plays the game the way BenchmarkWire's bot match does (the same mode, players,
// bots and length; each player's bot seeded as internal/sim seeds it) on one game.State, and
// sizes the prototype's stream of every frame.
func streamRun(coins int) (streamResult, error) {
	return streamRuns.get(coins, func() (streamResult, error) {
		var r streamResult
		sc, c := wireScenario(wireInputs[2], wireLinks[0])
		g, err := game.New(game.Config{Mode: c.Mode, Players: 2, Coins: coins, Seed: sc.Seed + 1})
		if err != nil {
			return r, err
		}
		bots := []*bot.Bot{bot.NewBot(sc.Seed * 7), bot.NewBot(sc.Seed*7 + 1)}
		in := make([]game.Input, 2)
		var buf []byte
		var full, match [2]int
		var live, fullFrames int
		for range sc.Frames {
			for p, bot := range bots {
				in[p] = bot.Next()
			}
			g.Step(in)
			buf = streamMsgpack(buf[:0], g.Coins(), g.CoinsLeft())
			mp := len(buf)
			buf = streamBinary(buf[:0], g.Coins(), g.CoinsLeft())
			bin := len(buf)
			match[0] += mp
			match[1] += bin
			live += g.CoinsLeft()
			if g.Phase() == game.Moving && g.CoinsLeft() == coins {
				full[0] += mp
				full[1] += bin
				fullFrames++
				if r.sample == nil {
					snap := g.SaveState(nil)
					if r.sample, err = game.Decode(snap); err != nil {
						return r, err
					}
				}
			}
		}
		if fullFrames == 0 {
			return r, fmt.Errorf("no frame with every coin moving")
		}
		n, nf := float64(sc.Frames), float64(fullFrames)
		r.full = streamSize{float64(full[0]) / nf, float64(full[1]) / nf}
		r.match = streamSize{float64(match[0]) / n, float64(match[1]) / n}
		r.live = float64(live) / n
		return r, nil
	})
}

// BenchmarkStream sizes the prototype's design against this one, on the same game: the
// prototype streamed every remaining coin's position every frame; p2pa sends inputs. The
// positions come from a one-minute match of the real game with bots (BenchmarkWire's bot
// match), encoded as the prototype's MessagePack message and packed as 2×uint16 per coin.
//
//	stream-B/frame   bytes of one frame's stream while every coin is in play (the frames
//	                 between the start of a round and the first coin collected), in the
//	                 benchmark's encoding; the prototype's ~306 bytes at 50 coins is this
//	stream/input     that, divided by what a player sends per frame in BenchmarkWire's bot
//	                 play at 0 ms (payload bytes)
//	match-B/frame    the mean over every frame of the match: coins are collected, and a
//	                 round that is over streams an empty list until the next one starts
//	match/input      that, divided by the same bot play
//	coins/frame      coins in play per frame, over the match
//	ns/op            encoding one frame's stream with every coin in play
func BenchmarkStream(b *testing.B) {
	wire, err := wireRun(wireInputs[2], wireLinks[0])
	if err != nil {
		b.Fatal(err)
	}
	input := wire.perTick(wire.bytes)
	for _, coins := range benchCoins {
		for _, enc := range []struct {
			name string
			fn   func([]byte, []game.Coin, int) []byte
			size func(streamSize) float64
		}{
			{"msgpack", streamMsgpack, func(s streamSize) float64 { return s.msgpack }},
			{"binary", streamBinary, func(s streamSize) float64 { return s.binary }},
		} {
			b.Run(fmt.Sprintf("coins=%d/enc=%s", coins, enc.name), func(b *testing.B) {
				r, err := streamRun(coins)
				if err != nil {
					b.Fatal(err)
				}
				g := r.sample
				buf := enc.fn(nil, g.Coins(), g.CoinsLeft())
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				for b.Loop() {
					buf = enc.fn(buf[:0], g.Coins(), g.CoinsLeft())
				}
				full, match := enc.size(r.full), enc.size(r.match)
				b.ReportMetric(full, "stream-B/frame")
				b.ReportMetric(full/input, "stream/input")
				b.ReportMetric(match, "match-B/frame")
				b.ReportMetric(match/input, "match/input")
				b.ReportMetric(r.live, "coins/frame")
			})
		}
	}
}
