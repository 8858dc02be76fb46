package rendezvous_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"p2pa/rendezvous"
)

// Two players meet in a room named by player 0 and exchange a signal, as a transport
// exchanges session descriptions and candidates.
func Example() {
	srv, err := rendezvous.NewServer(rendezvous.ServerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p0, err := rendezvous.Dial(ctx, hs.URL, rendezvous.JoinRequest{Room: "friday", Create: true, Seat: 0})
	if err != nil {
		log.Fatal(err)
	}
	defer p0.Close()
	p1, err := rendezvous.Dial(ctx, hs.URL, rendezvous.JoinRequest{Room: "FRIDAY", Seat: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer p1.Close()
	w := p1.Welcome()
	fmt.Printf("player 1 is member %s of room %s with %v\n", w.ID, w.Room, w.Members)

	ev := <-p0.Events()
	fmt.Printf("player 0 sees %v: %v\n", ev.Kind, ev.Member)
	if err := p0.Signal(ctx, ev.Member.ID, "offer"); err != nil {
		log.Fatal(err)
	}
	ev = <-p1.Events()
	fmt.Printf("player 1 got a %v from member %s: %q\n", ev.Kind, ev.From, ev.Data)

	_, err = rendezvous.Dial(ctx, hs.URL, rendezvous.JoinRequest{Room: "friday", Seat: 1})
	fmt.Println(err)
	// Output:
	// player 1 is member 2 of room FRIDAY with [{1 player 0}]
	// player 0 sees joined: {2 player 1}
	// player 1 got a signal from member 1: "offer"
	// player 1's seat in room FRIDAY is taken by a connected player
}
