// Package netplay runs one player's side of a networked match: it owns the loop around a
// lockstep.Session, a transport.Conn and a transport.Clock, and carries the session's
// requests out against a lockstep.Game.
//
// # The model
//
// lockstep.Session is a pure state machine, like etcd raft's RawNode: it never reads a
// socket or a clock and never calls the game. Runner is the part raft calls Node: the one
// loop every front end shares. Each frame it
//
//   - hands every datagram that has arrived to the session, stamped with its arrival time
//     (Poll; during the handshake the replies go out at once, so a handshake completes at
//     network speed instead of one round trip per frame);
//   - asks the input source for the local input of the next frame, once, and keeps it until
//     the session takes it (a session that cannot advance this tick takes it next tick);
//   - steps the session, applies the requests to the game, sends what the session wants
//     sent, and reports the session's events;
//   - reports every newly confirmed frame (Config.OnConfirmed, for recordings), and ends
//     the match when its end frame is settled (see below). Only the end frame is hashed:
//     its checksum and saved state are taken once it is confirmed, while the session still
//     remembers it, so a large state costs nothing extra per frame.
//
// The same code runs in two ways. Run (or RunWith) drives it on a real clock: it waits on
// the Conn's readability (see Readable; transport.UDP has it) and on a ticker at the frame
// rate, plays the first frame as soon as the handshake completes, until the match ends.
// Poll and Tick drive it step by step, with no goroutine: on a virtual clock that is how
// simtest runs several runners over transport.Network and replays a scenario exactly, and
// a window calls Tick from its own frame callback. The p2pa binaries, their benchmarks and
// the simulations all run this one loop. Tick returns what the tick did as a
// lockstep.Status (advanced, stalled for want of the peers, a time-sync wait, …), and
// Phase says where the runner stands in the match's life.
//
// # The lifecycle
//
// A runner's state is its Phase, and the runner changes it in one place, along these
// moves only (a move outside them is a runner bug, and ends the match with EndFailed):
//
//	handshake -> playing     the first Tick on the running session
//	playing   -> paused      a player dropped and may rejoin (Config.Rejoin)
//	paused    -> playing     it is back, or the window ended
//	playing   -> ending      the end frame is played, or Quit (also from the handshake)
//	playing   -> desynced    a desync the session does not mend (also from paused, ending)
//	any       -> done        the end confirmed and acknowledged, a failure, Abort
//
// Ending folds in late inputs until the end frame is confirmed and every peer holds our
// inputs; desynced plays nothing more and ends after Config.DesyncLinger (or at Quit).
// Tick steps the session while playing or ending, runs the next leg's handshake while
// paused, and does nothing once done, when Poll still answers a peer that goes on sending.
//
// # A window's loop
//
// A game engine that owns the frame loop (ebiten's Update, 60 times a second) calls Tick
// there instead of Run. Tick alone would read datagrams once a frame, adding up to a frame
// of waiting on each side to every round trip (and to the handshake, one frame per round
// trip); so a goroutine hands them over as they arrive. A Runner is not safe for
// concurrent use, so the two take turns under one mutex, which Draw holds too while it
// reads the game:
//
//	var mu sync.Mutex
//	go func() {
//		for {
//			select {
//			case <-conn.Readable(): // transport.UDP signals arrivals
//				mu.Lock()
//				r.Poll()
//				mu.Unlock()
//			case <-closing: // the window is closing
//				return
//			}
//		}
//	}()
//	// in Update:
//	mu.Lock()
//	r.Tick()
//	done := r.Done()
//	mu.Unlock()
//
// A human's input (a mouse, a gamepad) is read by Config.Input; set InputEachTick, so the
// input is read afresh on every tick while the session waits for the network rather than
// kept from the first tick that asked (that keeping is for bots, whose input must depend on
// the frame alone). Example (Window) is a compiled version of this loop.
//
// # Safe defaults
//
// New fills what must not be left zero. A zero Session.Nonce becomes a random one (from
// crypto/rand): the nonces key every datagram of the match, so with a fixed nonce every run
// would share keys and a leftover process of an earlier match would be believed. Player
// 0's zero Session.Seed becomes a random one too: the handshake hands player 0's seed to
// every other player, so all of them start their game (NewGame) from the same seed without
// anyone choosing one. A seed is not filled where it is never sent: another player's own
// Seed is not used (it adopts player 0's), a leg that resumes a match has the match's, and
// SeedGiven says zero was chosen. A game made before New (Config.Game) does not see the
// agreed seed: build it from a value every peer knows, or use NewGame.
//
// # A joiner that does not know the count
//
// Player 0 decides how many play. A joiner that was not told (a command line without
// -players guesses the fewest that fit its seat) sets Config.AdoptPlayerCount: when player
// 0 refuses its handshake for the count alone (a lockstep.SetupError), the runner takes
// the match's count and starts its handshake over on a new first leg, once. The game's
// player count changes with it, so the runner asks Config.OnSetup for the game (and its
// description, if that names the count or a mode that goes with it); OnSetup is where a
// front end says so, and it may refuse the match (a seat the match does not have) with an
// error that ends it. The refusal taken up is no failure, and OnEvent does not see it.
//
// # Nobody answering
//
// A runner that was given a peer's address and hears nothing keeps trying: a wrong
// address, a peer that has not started, and a slow one look the same from here, and Run
// does not give up by itself. Config.OnNoAnswer reports it (NoAnswer: "no answer from ADDR
// after 5s", then less and less often) so a front end can say so, and Quit, or cancel Run's
// context, if the user wants to stop.
//
// # What the game saves
//
// The checksums peers compare, and the ones a recording keeps, are hashes of the bytes the
// game's SaveState writes (codec.StateChecksum), never of the game's memory. So the
// saved bytes must be the state itself, complete and in one canonical encoding: equal
// states give equal bytes on every peer and platform (fixed byte order, no map order, no
// pointers or padding, no floats whose rounding differs by CPU). A save that writes a
// handle (an index into snapshots kept on the side) would roll back correctly and still
// make every checksum compare handles, so no desync would ever be found.
//
// # Ending a match
//
// A match ends at a frame both sides agree on, with the checksum of that frame:
//
//   - FinishAt N: no local input is added past frame N-1; once the session reaches frame N
//     it only folds in late remote inputs until N is confirmed, then waits (at most
//     Config.Linger) until every peer has acknowledged every input we played, and leaves
//     with a goodbye. Both peers report frame N and the same checksum.
//   - Quit: the end moves to the last frame we played; the rest is as above.
//   - A peer that says goodbye or vanishes (the disconnect timeout) moves the end to the
//     last frame every player played with real inputs (lockstep's EndFrame).
//   - A desync is mended and the match goes on (unless Config.Session.StopOnDesync: the
//     peers agree which state is right and hand it to those
//     without it; OnEvent gets a lockstep.EventResync per player that differed, in the
//     match's frames). With StopOnDesync, or when desyncs come back too often (the game is
//     not deterministic), a desync ends the match shortly after it is found
//     (Config.DesyncLinger: the session first tells the peers its checksum; a window may
//     stay on it instead). A failed handshake ends it at once. Abort ends it at once with
//     a goodbye.
//   - While the last frame waits for late inputs, and after the end, datagrams are
//     answered as they arrive, so the goodbye takes a round trip, not a frame.
//
// Result says how it ended (EndReason), at which frame, with which checksum and state.
//
// # Rejoin
//
// With Config.Rejoin a player who drops does not end the match: the others pause (the frame
// is the last one they all confirmed; they roll back to it: the frames they had played
// on the dropped player's stand-in input were never confirmed, so nothing reported to
// OnConfirmed, a recording or a spectator is taken back) and open the next leg, a
// session that resumes the match from there (lockstep.Match.NextLeg), while the old leg stays alive for the survivors'
// keep-alives and to go back to. The runner's lockstep.Match holds the legs, routes each
// datagram to its leg (handshakes, and what the new leg's keys verify, to the new one) and
// translates frames. The player rejoins by running a fresh runner with the same
// configuration: its session is handed the state, and the runner counts the match's frames
// from there (BaseFrame; Input, OnConfirmed and its Confirmed.Checksum, Result and EndFrame
// all use the match's frames; Match().Checksum(f) takes one). If nobody comes back within the window, the runner
// goes back to the old leg where it was, and the match ends (or, with more players, goes on)
// as it would have without rejoin. With three or four players everyone pauses: a player
// who comes back joins a match that did not move on without it. OnRejoin and Rejoin tell a
// front end what to show. Spectators watch on across a rejoin: the new leg takes them over
// from the old one (lockstep's Match.Resumed), and a spectator that asks later is fed from
// frame 0 or handed the leg's state. With every player's Session.Spectators set, a
// spectator whose feeder (player 0) leaves a match that goes on, or goes silent, turns to
// the lowest-numbered player still in it without a restart (Spectator).
//
// Every frame of a match that a player left and rejoined runs on the inputs it would have
// run on had the player stayed (the resume frame is the first one played on a stand-in),
// so an input source that gives an input per match frame (InputFunc's f; the coin game's
// seeded bot does) ends on the same checksum whenever the drop and the rejoin happened.
// That is guaranteed with no input delay: with a delay d, the first d frames of every leg
// run with no input, as the first leg's do, where the match without the departure ran on
// the players' inputs (whether that changes the state depends on the game and the moment).
//
// Why legs rather than one session that takes a player back: the returning process has
// nothing of the old session (keys, input rings, time sync), and the survivors' old session
// has frozen the dropped player's input for good. A new handshake rebuilds all of that the
// one way it is already built and tested, and the engine only had to learn to start from a
// state instead of a seed.
//
// Nothing in a steady frame allocates: buffers are owned by the runner and reused.
package netplay
