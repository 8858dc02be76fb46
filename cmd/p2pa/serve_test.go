package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/turn/v5"

	"p2pa/rendezvous"
)

var serveRoomsLine = regexp.MustCompile(`^p2pa: rooms at http://(127\.0\.0\.1:\d+) `)
var serveRelayLine = regexp.MustCompile(`^p2pa: relay \(TURN and STUN; UDP, and TURN over TCP\) at (127\.0\.0\.1:\d+), relaying to public addresses and 127\.0\.0\.0/8$`)

// TestServe runs p2pa -serve -turn on loopback, sends it junk, plays a room through it
// (with the relay credentials it hands out) and stops it with SIGTERM.
func TestServe(t *testing.T) {
	t.Parallel()
	p := cliStart(t, 90*time.Second, nil, "-serve", "127.0.0.1:0", "-turn", "127.0.0.1:0", "-turn-allow", "127.0.0.0/8")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	m, err := p.WaitLine(ctx, serveRoomsLine)
	if err != nil {
		t.Fatalf("%v\n%v", err, p)
	}
	addr := m[1]
	rm, err := p.WaitLine(ctx, serveRelayLine)
	if err != nil {
		t.Fatalf("%v\n%v", err, p)
	}
	relayAddr := rm[1]
	url := "http://" + addr

	// Junk: bytes that are no HTTP at all, a plain GET, and garbage over a WebSocket.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("\x16\x03\x01 not http at all\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n') // an HTTP 400, or the connection closed
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if line != "" && !strings.Contains(line, "400") {
		t.Errorf("junk got %q", line)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v %v", resp.Status, err)
	}
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("{{{")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.Read(ctx); err != nil || !strings.Contains(string(b), `"code":"bad-message"`) {
		t.Errorf("junk over the WebSocket: %q, %v", b, err)
	}
	_ = ws.CloseNow() // the server closes it anyway

	// A room: player 0 creates it, player 1 joins by its code, a signal goes across.
	p0, err := rendezvous.Dial(ctx, url, rendezvous.JoinRequest{Create: true, Seat: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer p0.Close()
	code := p0.Welcome().Room
	p1, err := rendezvous.Dial(ctx, url, rendezvous.JoinRequest{Room: code, Seat: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close()
	if _, err := rendezvous.Dial(ctx, url, rendezvous.JoinRequest{Room: code, Seat: 1}); !errors.Is(err, rendezvous.ErrSeatTaken) {
		t.Errorf("a second player 1: %v, want seat taken", err)
	}
	if err := p1.Signal(ctx, p0.Welcome().ID, "offer"); err != nil {
		t.Fatal(err)
	}
	for ev := range p0.Events() {
		if ev.Kind == rendezvous.EventSignal {
			if ev.Data != "offer" {
				t.Errorf("signal %+v", ev)
			}
			break
		}
	}

	// The credentials in the welcome open an allocation on the relay.
	ice := p1.Welcome().ICE
	want := []string{"stun:" + relayAddr, "turn:" + relayAddr + "?transport=udp", "turn:" + relayAddr + "?transport=tcp"}
	if len(ice) != 1 || strings.Join(ice[0].URLs, " ") != strings.Join(want, " ") || ice[0].Username == "" {
		t.Fatalf("welcome ICE servers %+v, want %v with credentials", ice, want)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: relayAddr, STUNServerAddr: relayAddr,
		Username: ice[0].Username, Password: ice[0].Credential, Conn: conn})
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := tc.Allocate()
	if err != nil {
		t.Errorf("allocate with the welcome's credentials: %v", err)
	} else if err := relayed.Close(); err != nil {
		t.Error(err)
	}
	tc.Close()

	p.Signal(syscall.SIGTERM)
	if code, err := p.Wait(ctx); code != 0 || err != nil {
		t.Errorf("after SIGTERM: exit %d, %v\n%v", code, err, p)
	}
	<-p1.Done()
	if !errors.Is(p1.Err(), rendezvous.ErrShutdown) {
		t.Errorf("player 1's connection ended with %v, want shutdown", p1.Err())
	}
	out := cliStdout(p)
	for _, want := range []string{`msg="room created" room=` + code, `msg=joined room=` + code + ` id=2 seat="player 1"`, "p2pa: server stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if cliStderr(p) != "" {
		t.Errorf("stderr: %q", cliStderr(p))
	}
}

func TestServeBadArguments(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-serve", busy.Addr().String()}, "address already in use"},
		{[]string{"-serve", "127.0.0.1:0", "-turn", ":3478"}, "-turn :3478: give -public IP"},
		{[]string{"-turn", "127.0.0.1:0"}, "-turn: only with -serve"},
		{[]string{"-serve", "127.0.0.1:0", "-p", "1"}, "-p: not with -serve"},
		{[]string{"-serve", "127.0.0.1:0", "-ice", "turn:relay.example.org"}, "needs -turn-secret"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			p := cliRun(t, 30*time.Second, nil, tc.args...)
			stderr := cliStderr(p)
			if p.ExitCode() != 2 {
				t.Errorf("exit %d, want 2\n%v", p.ExitCode(), p)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "p2pa: ") || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q: want one line saying %q", stderr, tc.want)
			}
		})
	}
}
