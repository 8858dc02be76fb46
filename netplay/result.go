package netplay

import (
	"fmt"
	"time"

	"p2pa/lockstep"
)

// EndReason says why a match ended.
type EndReason uint8

const (
	// EndNone: the match has not ended.
	EndNone EndReason = iota
	// EndFinished: Config.FinishAt was reached and confirmed.
	EndFinished
	// EndQuit: Quit was called (or Run's context was cancelled while running).
	EndQuit
	// EndPeerLeft: a peer said goodbye before the end.
	EndPeerLeft
	// EndPeerDisconnected: a peer went silent for the disconnect timeout.
	EndPeerDisconnected
	// EndDesync: the peers' checksums of a confirmed frame differ.
	EndDesync
	// EndFailed: the handshake failed (Result.Err says why), or the game could not start.
	EndFailed
	// EndCancelled: Run's context was cancelled before the match started.
	EndCancelled
)

var endNames = [...]string{
	EndNone:             "not ended",
	EndFinished:         "finished",
	EndQuit:             "quit",
	EndPeerLeft:         "peer left",
	EndPeerDisconnected: "peer disconnected",
	EndDesync:           "desync",
	EndFailed:           "failed",
	EndCancelled:        "cancelled",
}

func (e EndReason) String() string {
	if int(e) < len(endNames) {
		return endNames[e]
	}
	return fmt.Sprintf("EndReason(%d)", uint8(e))
}

// Result is how a match ended.
type Result struct {
	Reason EndReason
	// Frame is the end frame and Checksum its checksum. If Confirmed is false the end was
	// never confirmed (a failure, or the linger ran out): Frame is then the last confirmed
	// frame.
	Frame     lockstep.Frame
	Checksum  uint64
	Confirmed bool
	// State is the saved state of the end frame (the same on every peer), if confirmed.
	State     []byte
	Rollbacks int64
	RTT       time.Duration // the largest smoothed round trip to a peer
	Err       error         // a handshake failure, a desync, a game that could not start
}

// String is the line scripts read: frame=N checksum=… rollbacks=… rtt_ms=… end=….
func (r Result) String() string {
	return fmt.Sprintf("frame=%d checksum=%016x rollbacks=%d rtt_ms=%.2f end=%s",
		r.Frame, r.Checksum, r.Rollbacks, float64(r.RTT)/float64(time.Millisecond), r.Reason)
}
