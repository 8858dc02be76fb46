// Package rendezvous pairs p2pa peers by room so they can reach each other across NATs:
// a server (p2pa -serve) and its client, which speak JSON over one WebSocket. The server
// hands each member the ICE servers to use (STUN, and TURN with short-lived credentials)
// and relays opaque signals (session descriptions, trickled ICE candidates) between
// members. It never sees game datagrams: those travel peer to peer (or through the TURN
// relay, rendezvous/relay), and the engine authenticates them itself.
//
// # Rooms
//
// A room has player seats 0..3 and spectators. Player 0 usually creates it: with a fresh
// random code (JoinRequest{Create: true}, 7 characters of base32, 35 bits), or by claiming
// a name that scripts know (JoinRequest{Room: NAME, Create: true}: created if missing,
// joined if not). The others join it by name (JoinRequest{Room: CODE, Seat: K}); names are
// case-insensitive. The room lives as long as anyone is in it (a late spectator, a
// restarted player coming back), plus Limits.EmptyRoomTTL after the last one leaves.
//
// Every connection is a member with an ID the room never reuses, so a restarted process is
// a new member. A player seat is free again as soon as its holder's connection closes (a
// killed process's socket closes with it; a vanished machine's is dropped after missing a
// keep-alive ping), and is refused with ErrSeatTaken while held.
//
// # Messages
//
// Every message is one JSON text message with a type "t" (MsgType). Client to server:
//
//	{"t":"join","v":1,"room":"K7QF2MA","create":false,"seat":1}      seat: 0..3 or "spectator"
//	{"t":"signal","to":"2","data":"…"}                               data: at most MaxSignalData bytes
//
// Server to client:
//
//	{"t":"welcome","v":1,"room":"K7QF2MA","id":"3","seat":1,
//	 "members":[{"id":"1","seat":0},{"id":"2","seat":"spectator"}],
//	 "ice":[{"urls":["stun:203.0.113.7:3478","turn:203.0.113.7:3478?transport=udp"],
//	         "username":"1765000000:K7QF2MA.3","credential":"…"}]}
//	{"t":"joined","member":{"id":"4","seat":2}}
//	{"t":"left","member":{"id":"2","seat":"spectator"}}
//	{"t":"signal","from":"1","data":"…"}
//	{"t":"error","code":"seat-taken","message":"player 1's seat in room K7QF2MA is taken by a connected player"}
//
// "members" lists the others present, oldest first. An error (ErrorCode) is the last
// message before the server closes the connection: a malformed, oversized or out-of-place
// message closes that one connection and nothing else. A signal to a member that has left
// is dropped. Who offers to whom, and what "data" holds, is the transport's business.
//
// # Limits
//
// Limits bound players and spectators per room, the message size, rooms created and joins
// per client address per minute, connections per address, the rooms the server holds, and
// how long empty and idle rooms stay. The server pings every member (Limits.PingInterval),
// which also keeps NAT mappings of the signalling connection open during a match.
//
// # TURN credentials
//
// TURN servers in ServerConfig.ICE get per-member credentials in the TURN REST scheme
// (TURNCredentials): username "EXPIRY:ROOM.ID", password base64(HMAC-SHA1(secret,
// username)), valid for ServerConfig.CredentialTTL. The embedded relay
// (rendezvous/relay) checks them, as does coturn with use-auth-secret and
// static-auth-secret set to the same secret.
//
// The client builds for js/wasm as well (the browser's WebSocket), so the browser build
// joins rooms with the same code.
package rendezvous
