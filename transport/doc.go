// Package transport moves datagrams between the two peers of a p2pa session, and fakes a bad
// network for tests and demos.
//
// The peers exchange only inputs, in small UDP datagrams: lockstep sends at most
// lockstep.MaxDatagram (508) bytes; a Conn delivers up to MaxDatagram (1500), see there.
// Everything here speaks one interface, Conn: a datagram endpoint shaped like
// net.PacketConn, except that ReadFrom never blocks. It reports ok=false when nothing is
// waiting.
//
// # Why non-blocking reads
//
// The game loop owns time. Each frame it drains whatever inputs have arrived, advances or
// rolls back the simulation, and sends its own input; it must never stall in a read because
// the peer is slow or gone. A blocking read would need a goroutine per socket plus a channel
// and a timeout in every caller. Instead, UDP keeps one internal reader goroutine that moves
// datagrams into a bounded, preallocated queue, and ReadFrom just copies out of it: no
// blocking, no allocation, no unbounded memory under a flood (extra datagrams are dropped
// and counted). A loop that would rather sleep than poll can wait on UDP.Readable. The same
// shape lets the emulator below stand in for a socket without any goroutine at all, which
// makes emulated runs deterministic.
//
// # Addresses
//
// ResolvePeer parses a -peer flag (":7000" means this machine) and ParseListen a -listen
// flag (":7000" means all interfaces). Addresses are always unmapped (netip.Addr.Unmap), so
// an IPv4 peer seen on a dual-stack socket compares equal to its plain IPv4 address.
//
// # The emulator model
//
// A Network is a set of endpoints on one Clock, usually a VirtualClock a test advances by
// hand. Each direction of each pair of addresses is a link with a LinkConfig (default:
// perfect). A datagram written at time t is, in order: lost if t falls in an Outage; lost with
// probability Loss; otherwise delivered at t + Latency + uniform[-Jitter, +Jitter] (floored at
// 0), plus, with probability Reorder, an extra uniform[20ms, 2×Latency+40ms] so later
// datagrams overtake it; and, with probability Dup, delivered a second time after an independently drawn
// delay. The receiver's ReadFrom returns datagrams whose delivery time is <= Now, earliest
// first, ties in send order. Each link direction draws from its own PCG generator derived
// from the network's seed and the two addresses, so a run replays exactly, and traffic in one
// direction never changes the fate of datagrams in another.
//
// ParseNetsim reads the same model from a flag ("latency=40ms,jitter=10ms,loss=5%") and
// NewImpaired puts it in front of a real Conn: it shapes both directions, so latency=40ms
// on one peer adds 80ms to the round trip.
package transport
