package lockstep

import "p2pa/internal/xxh64"

// stateChecksum is the checksum the engine uses for a saved state: XXH64(state, seed 0),
// from internal/xxh64, the one implementation that codec.StateChecksum (for a game's own
// code) and the coin game's checksum share, pinned there so that peers built at different
// times agree and a checksum in a recording stays meaningful. The sessions compute it only
// when something needs it (a checksum frame, Checksum, a resumed state), not on every save.
func stateChecksum(state []byte) uint64 { return xxh64.Sum64(state) }
