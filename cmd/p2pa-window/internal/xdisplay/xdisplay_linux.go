//go:build linux

package xdisplay

import "syscall"

func init() {
	if msg := problem(); msg != "" {
		if askedForHelp() {
			// p2pa-window -h must work where no window can open: print the usage here,
			// before ebiten's init would stop us. The text is p2pa's own (help.go).
			_, _ = syscall.Write(1, []byte(help))
			syscall.Exit(0)
		}
		// Only syscall may be used here (see the package comment), hence the raw write.
		_, _ = syscall.Write(2, []byte("p2pa-window: cannot open a window: "+msg+"; run p2pa with -headless to play without a window\n"))
		syscall.Exit(1)
	}
}

// problem returns why no window can be opened, or "" when an X server seems reachable or
// the check cannot tell (then GLFW has the last word).
func problem() string {
	if v, _ := syscall.Getenv("P2PA_SKIP_DISPLAY_CHECK"); v == "1" {
		return ""
	}
	display, _ := syscall.Getenv("DISPLAY")
	if display == "" {
		if _, ok := syscall.Getenv("WAYLAND_DISPLAY"); ok {
			return "DISPLAY is not set (the window needs X11 or XWayland)"
		}
		return "no display (DISPLAY is not set)"
	}
	num, local := localDisplay(display)
	if !local {
		return ""
	}
	path := "/tmp/.X11-unix/X" + num
	// Servers on Linux listen on the socket file and on an abstract socket of the same
	// name; either will do.
	if reachable(path) || reachable("@"+path) {
		return ""
	}
	return "X display " + display + " is not reachable"
}

// localDisplay splits ":N[.S]" or "unix:N[.S]" into N. Other forms (TCP hosts, launchd
// paths) are left to GLFW.
func localDisplay(d string) (num string, local bool) {
	switch {
	case len(d) > 5 && d[:5] == "unix:":
		d = d[5:]
	case len(d) > 1 && d[0] == ':':
		d = d[1:]
	default:
		return "", false
	}
	n := 0
	for n < len(d) && d[n] >= '0' && d[n] <= '9' {
		n++
	}
	if n == 0 || (n < len(d) && d[n] != '.') {
		return "", false
	}
	return d[:n], true
}

func reachable(path string) bool {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return true // cannot tell; let GLFW try
	}
	defer syscall.Close(fd)
	return syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}) == nil
}

// askedForHelp reports whether the command line holds -h, -help or --help (the flag
// package's spellings). os.Args is out of reach here, so it reads /proc/self/cmdline.
func askedForHelp() bool {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	var buf [1 << 16]byte
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err != nil || m <= 0 {
			break
		}
		n += m
	}
	args := buf[:n]
	first := true // the program's name
	for len(args) > 0 {
		i := 0
		for i < len(args) && args[i] != 0 {
			i++
		}
		arg := string(args[:i])
		if i < len(args) {
			i++
		}
		args = args[i:]
		if first {
			first = false
			continue
		}
		switch arg {
		case "-h", "-help", "--h", "--help":
			return true
		case "--":
			return false
		}
	}
	return false
}
