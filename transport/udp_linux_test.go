package transport

import (
	"syscall"
	"testing"
	"time"
)

// TestUDPReaderSurvivesReadErrors turns on IP_RECVERR so Linux reports ICMP port-unreachable
// as ECONNREFUSED on reads (and writes) of an unconnected socket, then checks the reader
// counts the error, keeps reading, and WriteTo does not fail.
func TestUDPReaderSurvivesReadErrors(t *testing.T) {
	a := listen(t, "127.0.0.1:0")
	rc, err := a.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
	}); err != nil || serr != nil {
		t.Skipf("IP_RECVERR: %v %v", err, serr)
	}
	gone, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := gone.LocalAddr()
	gone.Close()

	// Reader and writer race for each pending error; keep provoking until the reader got one.
	deadline := time.Now().Add(10 * time.Second)
	for a.Stats().ReadErrors == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no read error reported; stats %+v", a.Stats())
		}
		if err := a.WriteTo([]byte("anyone?"), dead); err != nil {
			t.Fatalf("WriteTo a closed port: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	b := listen(t, "127.0.0.1:0")
	if err := b.WriteTo([]byte("still reading"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, _ := recv(t, a); string(got) != "still reading" {
		t.Fatalf("got %q", got)
	}
	t.Logf("stats %+v", a.Stats())
}
