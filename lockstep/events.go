package lockstep

import (
	"fmt"
	"net/netip"
	"time"
)

// EventKind says what happened.
type EventKind uint8

const (
	// EventSynchronizing: a handshake round trip with Player succeeded (Progress of Total).
	EventSynchronizing EventKind = iota + 1
	// EventRunning: every peer is synchronized; the game can start from Seed, the agreed
	// RNG seed.
	EventRunning
	// EventInterrupted: Player has been silent for the interrupt timeout; it is dropped if
	// the silence lasts Timeout longer.
	EventInterrupted
	// EventResumed: Player is heard from again after an interruption. A spectator's: its
	// feeder left or went silent (Err says which) and Player, the next one, feeds it from
	// Frame on.
	EventResumed
	// EventDisconnected: Player was silent for the disconnect timeout (or another survivor
	// dropped it) and is dropped: from Frame on, its last real input stands in for all its
	// frames, and the local game goes on. With three or four players the event comes once
	// the survivors agreed on Frame, which is then the same on all of them.
	EventDisconnected
	// EventPeerLeft: Player said goodbye (closed its window). Treated like a disconnect;
	// Frame is the first frame without its real input.
	EventPeerLeft
	// EventTimeSyncWait: this peer runs ahead of the others; the next Frames Steps return
	// StatusTimeSync, so that rollbacks stay short on both sides.
	EventTimeSyncWait
	// EventDesync: the checksums of confirmed frame Frame differ; the session stops (with
	// Config.StopOnDesync, or when desyncs came back too often: then Err says so).
	EventDesync
	// EventFailed: the handshake failed (Err says why); the session stops.
	EventFailed
	// EventHandover: the handshake found the match in progress at Frame (of the match):
	// Player hands us its state of Total bytes before we play (Session.Handover
	// tells the progress).
	EventHandover
	// EventRejoinRefused: a rejoin attempt for seat Player from Addr was refused because of
	// Err (by a leg that resumes a match, or a running one with Config.Rejoin whose seat's
	// player has gone silent); the match waits on.
	EventRejoinRefused
	// EventResync: the checksums of confirmed frame Frame differed, and Player's state,
	// which was not the one the peers agreed on (Local, ours: Remote, the right one), is
	// replaced by Donor's (unless Config.StopOnDesync). The player that received it says
	// so once it has loaded it (the next Step replays its confirmed inputs from Frame as
	// one deep rollback), the donor once the player holds it, any other player at once.
	EventResync
)

var eventNames = [...]string{
	EventSynchronizing: "synchronizing",
	EventRunning:       "running",
	EventInterrupted:   "interrupted",
	EventResumed:       "resumed",
	EventDisconnected:  "disconnected",
	EventPeerLeft:      "peer left",
	EventTimeSyncWait:  "time sync wait",
	EventDesync:        "desync",
	EventFailed:        "failed",
	EventHandover:      "handover",
	EventRejoinRefused: "rejoin refused",
	EventResync:        "resync",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is something the game may want to show.
type Event struct {
	Kind            EventKind
	Player          int
	Progress, Total int            // EventSynchronizing
	Timeout         time.Duration  // EventInterrupted: time left before the disconnect
	Frames          int            // EventTimeSyncWait
	Frame           Frame          // EventDesync, EventResync; EventDisconnected, EventPeerLeft: the end frame
	Local, Remote   uint64         // EventDesync: the two checksums; EventResync: ours and the right one
	Donor           int            // EventResync: the player whose state was handed over
	Err             error          // EventFailed; EventDesync when desyncs came back too often; a spectator's EventResumed: why its feeder changed
	Seed            uint64         // EventRunning: the agreed RNG seed
	Addr            netip.AddrPort // EventRejoinRefused: where the attempt came from
}

func (e Event) String() string {
	switch e.Kind {
	case EventSynchronizing:
		return fmt.Sprintf("synchronizing with player %d: %d/%d", e.Player, e.Progress, e.Total)
	case EventInterrupted:
		return fmt.Sprintf("player %d interrupted, disconnect in %v", e.Player, e.Timeout)
	case EventTimeSyncWait:
		return fmt.Sprintf("time sync: wait %d frames", e.Frames)
	case EventDesync:
		return fmt.Sprintf("desync at frame %d: local %016x, player %d %016x", e.Frame, e.Local, e.Player, e.Remote)
	case EventFailed:
		return fmt.Sprintf("failed: %v", e.Err)
	case EventRunning:
		return "running"
	case EventHandover:
		return fmt.Sprintf("handover of frame %d from player %d: %d bytes", e.Frame, e.Player, e.Total)
	case EventResync:
		return fmt.Sprintf("desync at frame %d (player %d differed); resynced from player %d", e.Frame, e.Player, e.Donor)
	case EventRejoinRefused:
		return fmt.Sprintf("refused a rejoin for seat %d from %v: %v", e.Player, e.Addr, e.Err)
	}
	return fmt.Sprintf("%v player %d", e.Kind, e.Player)
}
