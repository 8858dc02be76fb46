package lockstep

import (
	"fmt"
	"log/slog"
	"time"
)

// The bounds of a session, in one place: the limits that keep every buffer fixed in size
// (a datagram never carries more than these) and the protocol's version, then the
// defaults, what a zero field of Config stands for. Front ends that show a default (the
// command-line flags) use these names, so each value is written once.
const (
	MaxPlayers    = 4
	MaxInputSize  = 64
	MaxPrediction = 60
	MaxInputDelay = 30
	// MaxSpectators is the most spectators one player feeds at once.
	MaxSpectators = 8
	// MaxResumeState is the largest saved state a leg can resume from or hand over.
	MaxResumeState = 32 << 20
	// MaxDatagram is the largest datagram the session sends or accepts: small enough for any
	// IPv4 path without fragmentation (576-byte minimum reassembly size minus IP and UDP
	// headers). transport.MaxDatagram (1500), the receive buffer, is larger on purpose.
	MaxDatagram = 508
	// ProtocolVersion is the wire format's version (wire.go); peers of another refuse
	// each other in the handshake.
	ProtocolVersion = 2

	// Defaults: what a zero field of Config stands for.
	DefaultPlayers           = 2
	DefaultMaxPrediction     = 8
	DefaultFrameDuration     = time.Second / 60
	DefaultInterruptTimeout  = 750 * time.Millisecond
	DefaultDisconnectTimeout = 5 * time.Second
	DefaultKeepAlive         = 200 * time.Millisecond
	DefaultChecksumInterval  = 60
	DefaultSyncRoundTrips    = 5
)

// ringFrames is how many frames of inputs and states a session remembers; it must exceed
// MaxPrediction+MaxInputDelay plus the frames waiting for acknowledgement.
const ringFrames = 256

// Config describes a session. The zero value of every field but InputSize is a sensible
// default (the Default constants); WithDefaults fills them in, Validate checks a Config, and
// the constructors do both.
type Config struct {
	Players   int // 2..4 for a P2P session (1..4 for a synctest.Test); default 2 (DefaultPlayers)
	InputSize int // bytes of one player's input for one frame; required, 1..MaxInputSize

	// InputDelay delays local input by this many frames: it hides that much network
	// latency at the cost of responsiveness. Default 0. Session.SetInputDelay changes it
	// during a match.
	InputDelay int
	// MaxPrediction is how far the session may run past the last fully known frame before it
	// refuses to advance. Default DefaultMaxPrediction (8).
	MaxPrediction int

	// FrameDuration is the length of one frame; time sync and the remote frame estimate use it.
	// Default DefaultFrameDuration (1/60 s).
	FrameDuration time.Duration
	// InterruptTimeout: after this much silence from a peer the session reports Interrupted.
	// Default DefaultInterruptTimeout (750 ms).
	InterruptTimeout time.Duration
	// DisconnectTimeout: after this much silence a peer is dropped. Default
	// DefaultDisconnectTimeout (5 s).
	DisconnectTimeout time.Duration
	// KeepAlive: the longest a peer goes without hearing from us. Default
	// DefaultKeepAlive (200 ms).
	KeepAlive time.Duration
	// ChecksumInterval: every this many frames the peers compare the checksum of the
	// confirmed state. Default DefaultChecksumInterval (60); negative disables.
	ChecksumInterval int
	// SyncRoundTrips is how many handshake round trips must succeed. Default
	// DefaultSyncRoundTrips (5).
	SyncRoundTrips int

	// Game names the game and its configuration ("p2pa-coins mode=classic coins=50"). Both
	// peers must present the same string or the handshake fails.
	Game string
	// Seed is the RNG seed player 0 proposes; every other player adopts player 0's in the
	// handshake, so only player 0's matters (Session.Seed and EventRunning give the agreed
	// one). Zero is a seed like any other here; netplay.New replaces player 0's zero seed
	// with a random one.
	Seed uint64
	// Secret, if set, must be the same on every peer: the handshake proves knowledge of it
	// without sending it, and it goes into the key that authenticates every datagram of the
	// match. A peer with another secret, or none, is refused. Empty: no secret.
	Secret string
	// Nonce seeds the session and handshake nonces, which key every datagram of the match.
	// Callers pass randomness in (the core has no global source): the same nonce in two runs
	// gives the same keys, so a leftover process of the earlier one would be believed.
	// netplay.New fills a zero one from crypto/rand; tests pass fixed values to replay
	// exactly.
	Nonce uint64

	// Spectators is how many spectators this player feeds at once (0..MaxSpectators; see
	// Spectator). With 0 it keeps no history and refuses spectators. Give every player the
	// same: player 0 feeds the spectators, and when it leaves a match that goes on (or
	// goes silent) they turn to the lowest-numbered player still in it.
	Spectators int

	// DiffStates, if set, explains how two saved states differ (used in mismatch reports).
	DiffStates func(a, b []byte) string
	// Logger receives debug logs; nil means silent.
	Logger *slog.Logger

	// Rejoin says the match lets a dropped player come back (see Rejoining in the package doc): a valid handshake
	// for a seat whose player has been silent for InterruptTimeout drops that player at once
	// (its process restarted), a peer gone quiet is probed with handshake requests (so a
	// restarted player 0, which knows nobody, hears of us), and a dropped peer that speaks
	// again is not told the match is over. The runner opens the next leg (Match.NextLeg) for
	// it to rejoin. The frames played on a dropped player's stand-in input are not confirmed
	// until the runner calls Match.GiveUpRejoins (a rejoin resumes the match at the first of
	// them, and a confirmed frame is never taken back); a newcomer for a seat whose player
	// was heard from less than InterruptTimeout ago is not refused until that player proves
	// to be there (a process restarted at once by a supervisor).
	Rejoin bool
	// SeedGiven says Seed was chosen by the user rather than at random: a rejoin attempt
	// with it is refused by a match that plays another seed.
	SeedGiven bool
	// StopOnDesync makes a desync stop the session (StateDesync, EventDesync), as it did
	// before resync. By default the peers mend it and play on: they agree which state of
	// the frame is right, the peers holding another one are handed it and replay up to
	// the present (EventResync; Resync in the package doc), and only desyncs that come back
	// (more than 3 within a minute: the game is not deterministic) stop it.
	StopOnDesync bool

	// resume, set by Match.NextLeg, makes the session a later leg of a match in progress,
	// starting from a saved state. It takes spectators as Spectators says, and the previous
	// leg's over (Match.Resumed).
	resume *resumePoint
}

// WithDefaults returns c with every zero field that has a default set to it.
func (c Config) WithDefaults() Config {
	if c.Players == 0 {
		c.Players = DefaultPlayers
	}
	if c.MaxPrediction == 0 {
		c.MaxPrediction = DefaultMaxPrediction
	}
	if c.FrameDuration == 0 {
		c.FrameDuration = DefaultFrameDuration
	}
	if c.InterruptTimeout == 0 {
		c.InterruptTimeout = DefaultInterruptTimeout
	}
	if c.DisconnectTimeout == 0 {
		c.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.ChecksumInterval == 0 {
		c.ChecksumInterval = DefaultChecksumInterval
	}
	if c.SyncRoundTrips == 0 {
		c.SyncRoundTrips = DefaultSyncRoundTrips
	}
	return c
}

// Validate reports the first field of c that is out of range, reading a zero field as its
// default. It changes nothing: use WithDefaults for the values a session runs with.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Players < 1 || c.Players > MaxPlayers:
		return fmt.Errorf("players: %d is not in 1..%d", c.Players, MaxPlayers)
	case c.InputSize < 1 || c.InputSize > MaxInputSize:
		return fmt.Errorf("input size: %d is not in 1..%d", c.InputSize, MaxInputSize)
	case c.InputDelay < 0 || c.InputDelay > MaxInputDelay:
		return fmt.Errorf("input delay: %d is not in 0..%d", c.InputDelay, MaxInputDelay)
	case c.MaxPrediction < 1 || c.MaxPrediction > MaxPrediction:
		return fmt.Errorf("max prediction: %d is not in 1..%d", c.MaxPrediction, MaxPrediction)
	case c.FrameDuration < 0 || c.InterruptTimeout < 0 || c.DisconnectTimeout < 0 || c.KeepAlive < 0:
		return fmt.Errorf("durations must not be negative")
	case c.InterruptTimeout > c.DisconnectTimeout:
		return fmt.Errorf("interrupt timeout %v is longer than disconnect timeout %v", c.InterruptTimeout, c.DisconnectTimeout)
	}
	return c.validateRest()
}

// validateRest is the second half of Validate, on a config with its defaults filled in.
func (c Config) validateRest() error {
	switch {
	case c.SyncRoundTrips < 1 || c.SyncRoundTrips > 100:
		return fmt.Errorf("sync round trips: %d is not in 1..100", c.SyncRoundTrips)
	case c.Spectators < 0 || c.Spectators > MaxSpectators:
		return fmt.Errorf("spectators: %d is not in 0..%d", c.Spectators, MaxSpectators)
	case len(c.Game) > 200:
		return fmt.Errorf("game: description longer than 200 bytes")
	case c.resume != nil && (len(c.resume.state) == 0 || len(c.resume.state) > MaxResumeState):
		return fmt.Errorf("resume: a state of %d bytes is not in 1..%d", len(c.resume.state), MaxResumeState)
	case c.resume != nil && (c.resume.frame < 0 || c.resume.frame > maxFrameOnWire):
		return fmt.Errorf("resume: frame %d is out of range", c.resume.frame)
	}
	return nil
}
