// Package lockstep is a rollback netcode engine in the style of GGPO: deterministic
// lockstep in which nobody waits for the network.
//
// # The model
//
// A game is a deterministic function from (state, every player's input for a frame) to the
// next state. Peers run the same function from the same seed and exchange only inputs. The
// state "at frame f" is the state after f steps; frame f's inputs take it to f+1.
//
// A peer does not wait for the remote inputs of the frame it is about to run: it predicts
// them (the last input it has from that player, repeated — inputs change rarely between
// frames) and runs ahead. When the real input arrives and differs from the prediction, the
// session loads the saved state of the first mispredicted frame and re-simulates up to the
// present with the inputs it now has: a rollback. Players see their own input at once and
// the other player's a round trip late, corrected within a few frames. How far a peer may
// run past the last frame whose inputs are all known is bounded (MaxPrediction, default 8):
// past it the session does not advance (Step returns StatusWaiting) until inputs arrive.
// A frame whose inputs are all known is confirmed; its state can never change again, so
// its checksum is final and peers compare those to detect a desync. The game only saves
// bytes; the engine hashes them (a pinned XXH64, codec.StateChecksum) for the frames that
// are compared, every ChecksumInterval frames, so the frames in between pay for a copy only.
//
// # Resync
//
// A desync does not end the match (unless Config.StopOnDesync). The peers
// agree which state of the frame that differs is right, from every player's checksum of it
// and one rule (the one most hold; with two players, or a tie, the lowest-numbered
// player's, player 0's): the lowest-numbered player holding it hands it to each peer that
// holds another, in the tagged, acknowledged chunks of a rejoin's handover, while the match
// goes on. The receiver keeps its inputs from that frame meanwhile, and once it holds the
// state its next Step loads it and replays to the present as one deep rollback. Every peer
// reports EventResync. The fourth desync within a minute stops the session (EventDesync,
// ErrDesync): a game that is not deterministic must not loop. resync.go has the details.
//
// # Requests, not callbacks
//
// The engine never calls the game. Like etcd's raft (Ready/Advance) and GGRS, Step
// returns the work to do, in order, as Requests: load a saved state, advance one frame with
// these inputs, save the state into this buffer. Apply carries them out against a Game (three
// methods; a game satisfies it without importing this package). Keeping the game out of the
// engine's call stack makes the engine a pure state machine: it has no sockets, goroutines,
// clocks or globals. Time comes in as a value (now), received datagrams come in through
// Receive, and datagrams to send come out of Outgoing. Tests therefore run two, three or
// four sessions in one goroutine on a virtual clock, and a scenario replays exactly.
//
// # Parts
//
//   - Session: the peer-to-peer session for one local player: handshake (version, game
//     and configuration, player 0's RNG seed), input exchange, time sync, timeouts.
//   - Spectator: watches a match from a player's confirmed inputs, never predicting. Every
//     player with Config.Spectators keeps them for late spectators; player 0 feeds them,
//     across rejoins (Match.Resumed hands them to the next leg), and when it leaves a match
//     that goes on, or goes silent, they turn to the lowest-numbered player still in it.
//   - introductions: with 3-4 players the others may know only player 0's
//     address; player 0 tells each the others' addresses and they mesh directly. Player 0
//     decides the player count: a newcomer expecting another one (or another
//     game) is refused with a SetupError naming it, and may start over with that count.
//   - the sync layer (unexported): input queues with prediction, the ring of saved states,
//     rollback planning.
//   - the wire format (described under ProtocolVersion): a hand-written, versioned binary encoding; inputs are
//     delta- and run-length-coded against the last acknowledged one, so a datagram carries
//     every unacknowledged input in a few bytes and loss costs no retransmission round trip.
//   - integrity and authentication (also under ProtocolVersion): nothing in a datagram is
//     believed before its check passes. Handshake datagrams end in a CRC-32C; each session
//     sends a random 64-bit session nonce in its handshake, and every later datagram ends in
//     an 8-byte HMAC-SHA256 tag under a key derived from both nonces (and Config.Secret), so
//     corrupted, truncated, forged datagrams, leftovers of another match and senders that did
//     not see the handshake are dropped and counted (Stats.Dropped).
//     With a Secret the handshake proves it without sending it; a peer with another one is
//     refused. A newcomer asking for a seat that is taken is refused ("match full") without
//     disturbing the session. A failed handshake is final: the session ignores what arrives
//     after it. Nothing is encrypted.
//     On a link too thin for that a datagram carries at most a fixed number of
//     input bytes, oldest first, and a session whose acknowledgements come back ever later
//     sends to that peer only every few frames, so its traffic stays under the link's rate.
//
// # Beside the engine
//
// Two sub-packages hold what a game uses in its own code and tests but a session does not:
// lockstep/synctest checks a game's determinism without a network (synctest.Test rolls back
// every frame and compares the saved states, which catches a game that is not deterministic
// or whose save misses state), and lockstep/codec holds the bytes at the game's boundary:
// codec.Fixed turns a fixed-size input struct into the bytes a session carries, and
// codec.StateChecksum is the checksum the engine takes of a saved state, for a game's
// result lines and tests. Both work on this package's public types only, and are as pure
// as it (TestPurity covers them). Keeping them out of this package keeps its listing to
// what a session needs.
//
// For the same reason one type serves where one concern is, and a value that only travels
// with another has no type of its own: State is the life of a session, a spectator and
// the link to a peer alike (a link ends StateGone); SetupError is every handshake refused
// over the match's setup (the player count or the game), which a joiner may adopt; the
// limits and the defaults are one block of constants; and the input statuses are an
// optional method of Game (AdvanceFrameWithStatus), not a second interface. Step returns
// its Status and its requests side by side; a save or load Request carries the saved
// state's buffer itself (Request.State); the datagrams dropped, by reason, are a part of
// Stats (Stats.Dropped); and where a later leg of a match starts is in the Config that
// Match.NextLeg makes, not a Config field of its own. How far a peer's inputs have arrived
// is PeerStats.Received, a figure for a HUD, not a method only a runner or a benchmark
// would call.
//
// # Ending
//
// A peer that leaves (Close) says goodbye with the frame its game ends at; a peer silent for
// DisconnectTimeout is dropped, its game ending after the last input of it we hold. Either
// way both sides end on the same frame where they can (EndFrame). With three or four
// players the survivors agree on that frame: every input message carries the sender's view
// of the third players (connected, last frame held), a survivor that hears a player was
// dropped drops it too, and all settle on the smallest last frame any of them held, rolling
// back if they ran past it; the departure's event comes once that frame is agreed, with the
// same Frame on every survivor. A dropped peer that was
// only stopped for a while and speaks again is answered with a goodbye naming our end, and
// a session that was not run for longer than InterruptTimeout does not count that time as
// its peers' silence.
//
// # Rejoining
//
// A match may outlive a player who drops (Config.Rejoin): it is a series of legs, each one
// Session. The survivors' runner ends a leg at the last frame they all confirmed and opens
// the next from the saved state there (Match.NextLeg makes its Config); a fresh session
// (the returning player's restarted process, which knows nothing of the match) learns from
// the handshake that the match is in progress and is handed the state in tagged,
// acknowledged chunks before it plays. With Config.Rejoin a running session notices a restarted process at
// once and does not tell a dropped peer the match is over.
//
// A Match holds a match's legs: the current session and, while the next leg's handshake
// runs, the previous one, kept alive for the survivors. It routes each datagram to its leg
// (handshakes, and what the new leg's keys verify, to the new one), builds the next leg's
// Config, and translates the current leg's frames into the match's, so a runner sees match
// frames only (Match.Frame, Match.Checksum). The engine stays pure: when to pause, the
// window and the game's state are the runner's business (netplay).
//
// # Inside
//
// Session orchestrates; each concern is a type of its own. A per-peer link (endpoint) holds
// what we know of one remote player (its handshake, quality report and time sync, roster
// view, goodbye, handover) and answers its quality reports itself. Receive dispatches by
// message type, and a handshake goes through a pipeline of stages (screen, claim the seat,
// check the peer's process, round trip). seatPolicy says who may take, keep or reopen a
// seat; handoverWindow is a donor's flow control over the chunks of a state it hands over
// (raft's inflights); inputTokens is the one walk over encoded inputs; every message's
// codec is in wire.go, each with a fuzz target. The transcripts in testdata/transcripts
// script sessions (rejoin, handover and spectators among them) with golden output.
//
// # One frame
//
// A game loop calls Step once a tick with the local input; Step folds the old
// AddLocalInput/Advance pair into one call that returns a typed Status and the requests,
// so there is nothing to sort out but the Status. Only StatusAdvanced takes the input; after any other status offer
// the same input again next tick (a seeded bot stays repeatable that way). The error is for
// caller bugs only (a wrong input size), never for the network:
//
//	for each datagram received: s.Receive(from, data, now)
//	status, reqs, err := s.Step(now, input)
//	if err != nil { return err }             // a bug in the caller
//	if err := lockstep.Apply(game, reqs); err != nil { return err }
//	switch status {
//	case lockstep.StatusAdvanced:            // input taken: read the next one
//	case lockstep.StatusEnded:               // s.Err() says why (nil after Close)
//	default:                                 // synchronizing or stalled: skip the tick, keep drawing
//	}
//	for _, d := range s.Outgoing(now) { conn.WriteTo(d.Data, d.To) }
//	for _, e := range s.Events() { show(e) }
//
// ExampleSession runs this loop for two sessions over an emulated network.
//
// # Ending a match
//
// To end at an agreed frame E: once LastLocalFrame() reaches E-1 (with input delay d that is
// d frames before Frame() does), call SetInputDelay(0) and keep stepping: the frames left
// play on the inputs already given, and what is offered is dropped, so no input past E-1 is
// ever sent. Once Frame() reaches E, call Step(now, nil): it starts no new frame and only
// folds in late remote inputs, until ConfirmedFrame() reaches E. Checksum(E) is then final
// and the same on every peer. A peer that leaves early ends the same way at
// E = LastLocalFrame()+1, waits for Unacknowledged() == 0 (so the others hold every input
// it played), and sends the datagrams Close returns; the others see EventPeerLeft, and
// EndFrame() is E on their side too.
//
// # Input delay and statuses
//
// Config.InputDelay delays the local input by some frames, hiding that much latency;
// SetInputDelay changes it during a match without a desync. Each advance Request carries
// every player's InputStatus (confirmed, predicted, disconnected); a game that has the
// optional method AdvanceFrameWithStatus (see Game) receives them from Apply.
//
// # Why bytes
//
// Inputs and states cross the engine as bytes, on purpose. The engine must compare inputs
// (to detect a wrong prediction), delta-code and send them, and keep a ring of states it can
// hand back after any number of frames; bytes make all of that a copy into a reused buffer,
// allocation-free and independent of the game's types, with no reflection and no generics
// leaking into Session. A game keeps its state as an ordinary Go value and turns it into
// bytes only at the boundary: for a fixed-size struct of fixed-size fields, encoding/binary
// does that in one call each way in SaveState and LoadState, and codec.Fixed (package
// lockstep/codec) does the same for an input struct (its ExampleFixed shows both).
//
// Buffers the session returns (requests, inputs, datagrams, events) are reused: they are
// valid until the next call, and a steady-state frame allocates nothing.
package lockstep
