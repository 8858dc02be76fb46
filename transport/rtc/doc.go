// Package rtc is a transport.Conn whose peers are the other members of a room, reached
// through NATs with ICE: directly where a hole can be punched, through a TURN relay where
// it cannot. lockstep and netplay run over it unchanged.
//
// # The model
//
// A member is a process in a room of a signaling server, known by an opaque id. Each other
// member is reached over its own link, and has an address every member derives the same way
// from its id (AddrOf: an fd00::/8 unique local IPv6 address, port 7000). The engine sends
// to and hears from these addresses exactly as it would UDP peers: its peer tables,
// handshakes, introductions and rejoins need nothing new. A restarted process joins with a
// new id, so it gets a new address, as a restarted UDP peer arrives from a new port.
//
// WriteTo to an address whose link is not open drops the datagram, as UDP to nobody would;
// lockstep retries. Received datagrams go into a bounded ring (QueueLen), ReadFrom copies out
// without blocking or allocating, and Readable signals arrivals, as transport.UDP does.
//
// # Links
//
// Two kinds, chosen per pair:
//
//   - LinkICE, between two native members: pion/ice alone. Once ICE has selected a pair of
//     candidates, every engine datagram is one UDP datagram with the same payload as over
//     transport.UDP; besides it only ICE's consent checks go on the wire (one request and one
//     answer per side every Timeouts.Keepalive).
//   - LinkDataChannel, when either member is a browser (js/wasm builds) or asks for it
//     (Config.Link): a WebRTC data channel, pre-negotiated, unordered and without
//     retransmission, over DTLS and SCTP. Each engine datagram is one message; DTLS and
//     SCTP headers and SCTP's acknowledgements make a match cost about 3.6 times the bytes
//     and 1.5 times the datagrams of UDP (BenchmarkMatch).
//
// # What is encrypted
//
// Every engine datagram carries the engine's own integrity tag (an HMAC under the match's
// key), on every link kind: a forged or altered datagram is dropped by lockstep. On an
// ICE-only link that is all: datagrams are authenticated but not encrypted, so someone on
// the path can read the inputs, as over transport.UDP. A data channel adds DTLS, which also
// encrypts them. ICE's own checks are authenticated with the ufrag and password exchanged
// through the signaling server. A TURN relay forwards what it is given: on an ICE-only link
// it could read the inputs, on a data channel it cannot.
//
// # Signaling
//
// The package never talks to a server. Config.Signaler sends an opaque string (at most
// MaxSignal bytes, JSON, versioned by SignalVersion) to a member; the caller hands what
// arrives to HandleSignal. The strings carry an offer (ICE credentials or an SDP offer, and
// the kinds the sender supports), an answer, trickled candidates, and an end. Every signal
// names its link by a random token chosen by the offerer, so signals about an older link are
// recognised and ignored.
//
// Who offers: the member that arrives connects (Connect) to every member already in the
// room; the others wait for its offer. If two members offer to each other anyway, the offer
// of the smaller id wins and the other is dropped. A native member offers ICE-only; a member
// that cannot take it (a browser) answers with a data-channel offer on the same link.
// Forget drops the link to a member that left.
//
// # Events
//
// Config.OnEvent hears when a link opens (LinkInfo says how: direct or relayed, through
// which TURN server), fails (Err wraps ErrNoPath when ICE found no path: with
// DefaultTimeouts that is known about 8 s after the offer), or is closed by the other
// member. Events are hints for the user; the engine's own timers decide whether a peer is
// gone.
//
// An open link's path can change: the controlling ICE agent (the offerer's; a browser's
// when a browser offers) nominates the first pair that works, and on a loaded machine
// that can be the relayed one, before the checks of the direct pair come back; a browser
// then moves the link to the direct pair, and the other side follows. An open link looks
// at its selected pair once a second (both builds: pion's js backend has no pair-change
// callback), keeps LinkInfo current, and when the path (direct or relayed, or the TURN
// server) changed it emits another LinkOpen event, with PathChanged set and the new
// LinkInfo.
package rtc
