// Command pong plays a headless Pong match over UDP with a scripted player:
//
//	pong -p 0 -listen 127.0.0.1:7000 &
//	pong -p 1 -listen 127.0.0.1:7001 -peer 127.0.0.1:7000
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"

	"p2pa/examples/pong"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

func main() {
	player := flag.Int("p", 0, "player (0 waits, 1 joins)")
	listen := flag.String("listen", "127.0.0.1:0", "local address")
	peer := flag.String("peer", "", "player 0's address (player 1 only)")
	frames := flag.Int("frames", 600, "frame to finish at")
	flag.Parse()
	if err := run(*player, *listen, *peer, *frames); err != nil {
		fmt.Fprintln(os.Stderr, "pong:", err)
		os.Exit(1)
	}
}

func run(player int, listen, peer string, frames int) error {
	conn, err := transport.ListenUDP(listen)
	if err != nil {
		return err
	}
	defer conn.Close()
	peers := make([]netip.AddrPort, 2)
	if peer != "" {
		if peers[0], err = transport.ResolvePeer(peer); err != nil {
			return err
		}
	}
	fmt.Println("pong: listening on", conn.LocalAddr())
	// Nonce and Seed are left zero on purpose: netplay.New draws both from crypto/rand, a
	// nonce on each side (no two runs share keys) and the seed on player 0, whose seed the
	// handshake hands to player 1; NewGame then gets that agreed seed on both sides.
	r, err := netplay.New(netplay.Config{
		Session: lockstep.Config{InputSize: pong.InputSize, Game: "pong"},
		Player:  player, Peers: peers, Conn: conn, Clock: transport.NewRealClock(),
		NewGame:  func(seed uint64) (lockstep.Game, error) { return pong.New(seed), nil },
		Input:    func(f lockstep.Frame, dst []byte) []byte { return pong.Bot(player, f, dst) },
		FinishAt: lockstep.Frame(frames),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := r.Run(ctx)
	fmt.Println(res)
	return err
}
