//go:build !js

package rtc_test

import (
	"errors"
	"fmt"
	"sync"

	"p2pa/transport/rtc"
)

// Two members in one process, their signals passed in memory (a rendezvous server's
// WebSocket does this between machines): the newcomer connects, both hear that the link
// opened, and a datagram goes to the other member's address.
func Example() {
	conns := map[string]*rtc.Conn{}
	var mu sync.Mutex
	opened := make(chan rtc.Event, 2)
	newMember := func(id string) *rtc.Conn {
		c, err := rtc.New(rtc.Config{
			Member: id,
			Signaler: rtc.SignalerFunc(func(to, data string) error {
				mu.Lock()
				peer := conns[to]
				mu.Unlock()
				// Delivered on another goroutine, as a server would: Signal must not call
				// HandleSignal itself.
				go func() {
					// After Close, a Conn refuses signals (the other's "end") with ErrClosed.
					if err := peer.HandleSignal(id, data); err != nil && !errors.Is(err, rtc.ErrClosed) {
						fmt.Println(err)
					}
				}()
				return nil
			}),
			OnEvent:         func(e rtc.Event) { opened <- e },
			IncludeLoopback: true, // both on this machine
		})
		if err != nil {
			panic(err)
		}
		mu.Lock()
		conns[id] = c
		mu.Unlock()
		return c
	}
	p0, p1 := newMember("p0"), newMember("p1")
	defer p0.Close()
	defer p1.Close()

	if err := p1.Connect("p0"); err != nil { // the newcomer offers
		panic(err)
	}
	for range 2 {
		e := <-opened
		fmt.Println(e.Member, e.State, e.Info.Kind, e.Info.Path)
	}
	if err := p1.WriteTo([]byte("hello"), rtc.AddrOf("p0")); err != nil {
		panic(err)
	}
	<-p0.Readable()
	buf := make([]byte, 1500)
	n, from, _ := p0.ReadFrom(buf)
	fmt.Println(string(buf[:n]), from == rtc.AddrOf("p1"))
	// Unordered output:
	// p0 open ice direct
	// p1 open ice direct
	// hello true
}
