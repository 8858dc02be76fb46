package netplay_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"sync"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// NewGame and readPad stand for a user's game and gamepad in the examples below.
func NewGame(seed uint64) lockstep.Game { return &counter{total: seed} }

func readPad() byte { return 0 }

// The README's "use it in your game" snippet, compiled here so that it stays true (a test
// checks that the README still shows these lines). It is not run: it waits for a peer.
func Example_useInYourGame() {
	ctx := context.Background()
	player, player0Addr := 1, netip.MustParseAddrPort("192.0.2.1:7000")

	conn, err := transport.ListenUDP(":7000")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	r, err := netplay.New(netplay.Config{
		Session:       lockstep.Config{InputSize: 1, Game: "my-game v1"}, // Nonce and Seed: random
		Player:        player,                                            // 0 waits; 1 knows player 0's address
		Peers:         []netip.AddrPort{player0Addr, {}},
		Conn:          conn,
		Clock:         transport.NewRealClock(),
		NewGame:       func(seed uint64) (lockstep.Game, error) { return NewGame(seed), nil },
		Input:         func(f lockstep.Frame, dst []byte) []byte { return append(dst, readPad()) },
		InputEachTick: true, // a human's pad: read afresh while the session waits
		OnNoAnswer:    func(n netplay.NoAnswer) { log.Print(n) },
		FinishAt:      3600,
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Run(ctx) // res: end frame, checksum, reason; cancel ctx to quit properly
	fmt.Println(res, err)
}

// window is what a game engine that owns the frame loop (ebiten, say) drives: Update 60
// times a second, Draw after it.
type window struct {
	mu      sync.Mutex // the runner is not safe for concurrent use: Poll, Tick and Draw take turns
	r       *netplay.Runner
	game    *counter
	closing chan struct{}
}

var errMatchOver = errors.New("the match is over")

// receive hands datagrams over as they arrive, so that replies do not wait for a frame.
func (w *window) receive(conn *transport.UDP) {
	for {
		select {
		case <-conn.Readable():
			w.mu.Lock()
			w.r.Poll()
			w.mu.Unlock()
		case <-w.closing:
			return
		}
	}
}

// Update plays one frame.
func (w *window) Update() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.r.Tick()
	if w.r.Done() {
		return errMatchOver
	}
	return nil
}

// Draw shows the game as of the latest frame (predicted, possibly).
func (w *window) Draw() {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Printf("\rframe %d, total %d", w.r.Frame(), w.game.total)
}

// runGame stands for the engine's loop (ebiten.RunGame): Update and Draw at 60 Hz until
// Update fails.
func runGame(w *window) error {
	t := time.NewTicker(time.Second / 60)
	defer t.Stop()
	for range t.C {
		if err := w.Update(); err != nil {
			return err
		}
		w.Draw()
	}
	return nil
}

// A window's loop (see the package doc): the engine calls Tick once a frame, a goroutine
// hands datagrams over as they arrive, and a mutex keeps them and Draw apart. The input is
// a human's, so it is read afresh on every tick (InputEachTick). Not run: it waits for a
// peer.
func Example_window() {
	conn, err := transport.ListenUDP(":7000")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	g := &counter{} // made before the handshake, so it must not depend on the seed
	r, err := netplay.New(netplay.Config{
		Session:       lockstep.Config{InputSize: 1, Game: "counter"},
		Player:        0, // waits for player 1
		Peers:         make([]netip.AddrPort, 2),
		Conn:          conn,
		Clock:         transport.NewRealClock(),
		Game:          g,
		Input:         func(f lockstep.Frame, dst []byte) []byte { return append(dst, readPad()) },
		InputEachTick: true,
		OnNoAnswer:    func(n netplay.NoAnswer) { log.Print(n) },
	})
	if err != nil {
		log.Fatal(err)
	}
	w := &window{r: r, game: g, closing: make(chan struct{})}
	go w.receive(conn)
	defer close(w.closing)
	if err := runGame(w); !errors.Is(err, errMatchOver) {
		log.Fatal(err)
	}
	fmt.Println(r.Result())
}
