package lockstep

import (
	"testing"
	"time"
)

func TestSeatPolicy(t *testing.T) {
	const it = 750 * time.Millisecond
	now := 10 * time.Second
	silent, heard := now-it, now-it+time.Millisecond
	for _, tc := range []struct {
		name       string
		policy     seatPolicy
		holder     seatHolder
		request    bool
		mayReseat  bool
		restarted  bool
		wantSilent bool
	}{
		{
			name:   "handshake: a learned holder that never finished, silent",
			policy: seatPolicy{state: StateSynchronizing}, holder: seatHolder{state: epSyncing, learned: true, lastRecv: silent},
			mayReseat: true, wantSilent: true,
		},
		{
			name:   "handshake: the same holder, heard from within InterruptTimeout",
			policy: seatPolicy{state: StateSynchronizing}, holder: seatHolder{state: epSyncing, learned: true, lastRecv: heard},
		},
		{
			name:   "handshake: a given address keeps its seat in a first leg",
			policy: seatPolicy{state: StateSynchronizing}, holder: seatHolder{state: epSyncing, lastRecv: silent},
			wantSilent: true,
		},
		{
			name:   "handshake: a learned holder that finished its round trips keeps it in a first leg",
			policy: seatPolicy{state: StateSynchronizing}, holder: seatHolder{state: epRunning, learned: true, lastRecv: silent},
			wantSilent: true,
		},
		{
			name:   "resumed leg: any silent holder that has not played gives it up",
			policy: seatPolicy{state: StateSynchronizing, resuming: true}, holder: seatHolder{state: epRunning, lastRecv: silent},
			mayReseat: true, wantSilent: true,
		},
		{
			name:   "resumed leg: a holder that played on the leg's state keeps it",
			policy: seatPolicy{state: StateSynchronizing, resuming: true}, holder: seatHolder{state: epRunning, loaded: true, lastRecv: silent},
			wantSilent: true,
		},
		{
			name:   "running: no reseating; a silent player's restart drops the seat (rejoin)",
			policy: seatPolicy{state: StateRunning, rejoin: true}, holder: seatHolder{state: epRunning, lastRecv: silent},
			request: true, restarted: true, wantSilent: true,
		},
		{
			name:   "running: a player heard from recently is not restarted",
			policy: seatPolicy{state: StateRunning, rejoin: true}, holder: seatHolder{state: epRunning, lastRecv: heard},
			request: true,
		},
		{
			name:   "running: a reply is not a restart",
			policy: seatPolicy{state: StateRunning, rejoin: true}, holder: seatHolder{state: epRunning, lastRecv: silent},
			wantSilent: true,
		},
		{
			name:   "running without rejoin: no restart",
			policy: seatPolicy{state: StateRunning}, holder: seatHolder{state: epRunning, lastRecv: silent},
			request: true, wantSilent: true,
		},
		{
			name:   "running: a seat already gone is not restarted",
			policy: seatPolicy{state: StateRunning, rejoin: true}, holder: seatHolder{state: epGone, lastRecv: silent},
			request: true, wantSilent: true,
		},
		{
			name:   "closed: nothing changes hands",
			policy: seatPolicy{state: StateClosed, rejoin: true, resuming: true}, holder: seatHolder{state: epRunning, learned: true, lastRecv: silent},
			request: true, wantSilent: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			p.now, p.interrupt = now, it
			if got := p.silent(tc.holder); got != tc.wantSilent {
				t.Errorf("silent: %v, want %v", got, tc.wantSilent)
			}
			if got := p.mayReseat(tc.holder); got != tc.mayReseat {
				t.Errorf("mayReseat: %v, want %v", got, tc.mayReseat)
			}
			if got := p.restarted(tc.holder, tc.request); got != tc.restarted {
				t.Errorf("restarted: %v, want %v", got, tc.restarted)
			}
		})
	}
}
