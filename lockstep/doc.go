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
// past it the session refuses to advance (ErrPredictionThreshold) until inputs arrive.
// A frame whose inputs are all known is confirmed; its state can never change again, so
// its checksum is final and peers compare those to detect a desync.
//
// # Requests, not callbacks
//
// The engine never calls the game. Like etcd's raft (Ready/Advance) and GGRS, Advance
// returns the work to do, in order, as Requests: load a saved state, advance one frame with
// these inputs, save the state into this cell. Apply carries them out against a Game (three
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
//   - SyncTest: a single-process session that rolls back every frame and compares
//     checksums, which catches a game that is not deterministic or whose save misses state.
//   - the sync layer (unexported): input queues with prediction, the ring of saved states,
//     rollback planning — shared by both.
//   - the wire format (wire.go): a hand-written, versioned binary encoding; inputs are
//     delta- and run-length-coded against the last acknowledged one, so a datagram carries
//     every unacknowledged input in a few bytes and loss costs no retransmission round trip.
//
// # Ending
//
// A peer that leaves (Close) says goodbye with the frame its game ends at; a peer silent for
// DisconnectTimeout is dropped, its game ending after the last input of it we hold. Either
// way both sides end on the same frame where they can (EndFrame). A dropped peer that was
// only stopped for a while and speaks again is answered with a goodbye naming our end, and
// a session that was not run for longer than InterruptTimeout does not count that time as
// its peers' silence (goodbye.go).
//
// # One frame
//
//	for each datagram received: s.Receive(from, data, now)
//	if s.Running() && !s.Wait() {        // Wait: time sync asks this peer to skip a tick
//		s.AddLocalInput(input)
//		reqs, err := s.Advance(now)  // ErrPredictionThreshold: skip the tick, keep drawing
//		lockstep.Apply(game, reqs)
//	}
//	for _, d := range s.Outgoing(now) { conn.WriteTo(d.Data, d.To) }
//	for _, e := range s.Events() { show(e) }
//
// Buffers the session returns (requests, inputs, datagrams, events) are reused: they are
// valid until the next call, and a steady-state frame allocates nothing.
package lockstep
