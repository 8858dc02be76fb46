// Package game is the coin game's simulation: coins bounce on an 800x600 field and
// collectors steered by the players' mice pick them up. It has no graphics and no clock;
// a frame is one call to Step (or AdvanceFrame). *State satisfies p2pa/lockstep's Game.
//
// # Determinism
//
// Every peer runs the same frames from the same inputs and must reach bit-identical
// states, on amd64, 386 and arm64 alike. So Step uses no floats, no maps, no time, no
// goroutines and no global random source, and the state holds only explicitly sized
// integers (int32, uint64), never int, whose width differs on 386.
//
// Floats are ruled out even for simple motion: Go may fuse x*y+z into one FMA
// instruction on arm64 (and other platforms) but not on amd64, and the fused result is
// rounded once instead of twice, so the same expression gives different bits.
//
// # Fixed point
//
// Coin positions and velocities (Coin.X, Y, VX, VY) are int32 in 1/Scale = 1/256 pixel
// units; Coin.Pixel gives whole pixels. Coins start at whole pixels with whole-pixel
// velocities in -MaxSpeed..MaxSpeed per axis, never (0, 0). A coin's position stays in
// [0, Width-1] x [0, Height-1] pixels: on leaving it is reflected back inside, clamped,
// and its velocity on that axis is pointed inward. The prototype merely negated the
// velocity, so a coin that got outside flipped every frame and jittered at the edge.
//
// Collector positions are whole pixels: the mouse position clamped to the field. Hit
// boxes are centred on the positions: a coin covers x-6..x+6 (CoinSize 13), a collector
// x-16..x+15 and y-24..y+23 (CollectorWidth 32 x CollectorHeight 48; for even sizes the
// extra pixel is before the position). A coin is collected when the boxes share at least
// one pixel; boxes that merely abut do not collect. If two collectors overlap one coin,
// the lower-numbered player gets it.
//
// # Randomness
//
// The generator is a math/rand/v2 PCG held by value in the State, seeded from
// Config.Seed and a fixed stream constant, and saved with the rest of the state, so a
// rollback rewinds it too. Draws reduce PCG's uint64 outputs with Lemire's
// multiply-and-reject in uint64 arithmetic; rand.Rand.IntN is avoided because it uses a
// different algorithm on 32-bit platforms. Each coin takes three draws: x, y, velocity.
// A new round continues the same stream, so rounds differ but every peer agrees.
//
// # Players, buttons and phases
//
// In Classic only player 1 has a collector (player 0 when playing alone) and the score
// is the total. In Versus every player has one, starting at (750, 550), (50, 50),
// (50, 550) and (750, 50) for players 0..3, and scores separately.
//
// Input carries the buttons held during a frame; the state remembers each player's
// previous buttons and reacts to presses (rising edges) only, so a button held across a
// rollback or a stall does not click twice. A left press by anyone starts the coins
// (Waiting to Moving) or, once the round is Over, starts the next round. A right press
// by anyone while Moving turns collection on for the rest of the round; while Waiting it
// is ignored. The phase reacts to presses as it stood at the start of the frame.
//
// Wire inputs are InputSize bytes per player. AdvanceFrame decodes them totally: any
// bytes are some input (positions are clamped, unknown button bits dropped, missing
// players read as the zero Input), because they come from the network. ParseInput is the
// strict form for tools and tests.
//
// # Byte form
//
// SaveState writes a versioned little-endian form: magic "P2PA",
// version, config, frame, phase, round, RNG, per-player buttons, collectors and scores,
// then every coin, collected ones included, so the length is fixed for a round (live
// coins come first: collecting a coin swaps it behind the live ones, so Step never
// walks over dead coins). Each coin record is Coin's own memory on a little-endian
// machine, so saving and loading the coins is one copy there. SaveState does not hash:
// Checksum is XXH64 of exactly those bytes, the same value the engine's checksum
// (codec.StateChecksum) gives for them, computed only when asked. LoadState checks every
// field and the exact length before touching the state, so truncated, foreign or
// corrupted bytes give an error wrapping ErrState and never a panic or a large
// allocation; a form that loads saves back to the same bytes. Diff decodes two forms and
// reports the differing fields.
//
// SaveState into a buffer with room, Step and Checksum do not allocate; LoadState
// allocates only when the coin count outgrows the state's slice.
package game
