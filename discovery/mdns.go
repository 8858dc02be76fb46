package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/mdns"
)

// domain is the multicast DNS domain.
const domain = "local"

// AdvertiseConfig says what to advertise and where.
type AdvertiseConfig struct {
	Service string         // DNS-SD service type; "" means ServiceType
	Port    int            // the UDP port the host listens on
	IPs     []net.IP       // the addresses to give; none means every non-loopback one
	Iface   *net.Interface // multicast interface to answer on; nil: the system's default
	Logger  *log.Logger    // the mdns module's own messages; nil discards them
	Ad      Ad             // Instance and the TXT fields; Addr is ignored
}

// Advertiser answers queries for one service instance until Close.
type Advertiser struct {
	server *mdns.Server
}

// Advertise starts answering multicast DNS queries for the instance cfg describes.
func Advertise(cfg AdvertiseConfig) (*Advertiser, error) {
	if err := CheckInstance(cfg.Ad.Instance); err != nil {
		return nil, fmt.Errorf("advertise: %w", err)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("advertise: port %d", cfg.Port)
	}
	txt, err := EncodeTXT(cfg.Ad)
	if err != nil {
		return nil, err
	}
	ips := cfg.IPs
	if len(ips) == 0 {
		ips = hostIPs()
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("advertise: this machine has no address but loopback")
	}
	// The SRV target is a host name of our own, so our A/AAAA answers never contradict
	// the ones the machine's own mDNS responder gives for its host name.
	host := cfg.Ad.Instance + "-p2pa." + domain + "."
	zone, err := mdns.NewMDNSService(cfg.Ad.Instance, service(cfg.Service), domain+".", host, cfg.Port, ips, txt)
	if err != nil {
		return nil, fmt.Errorf("advertise: %w", err)
	}
	server, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: cfg.Iface, Logger: logger(cfg.Logger)})
	if err != nil {
		return nil, fmt.Errorf("advertise: %w", err)
	}
	return &Advertiser{server: server}, nil
}

// Close stops answering. It may be called more than once.
func (a *Advertiser) Close() error {
	if a == nil || a.server == nil {
		return nil
	}
	if err := a.server.Shutdown(); err != nil {
		return fmt.Errorf("stop advertising: %w", err)
	}
	return nil
}

// BrowseConfig says what to look for.
type BrowseConfig struct {
	Service string         // DNS-SD service type; "" means ServiceType
	Timeout time.Duration  // how long to listen for answers; 0 means DefaultBrowse
	Iface   *net.Interface // multicast interface to ask on; nil: the system's default
	Logger  *log.Logger    // the mdns module's own messages; nil discards them
}

// DefaultBrowse is how long Browse listens unless told otherwise: answers on a LAN come
// within a second; the rest is for the queries the module repeats for half-heard ones.
const DefaultBrowse = 3 * time.Second

// Rejected is an answer that Browse could not use, with the reason.
type Rejected struct {
	Name string // as it came, possibly hostile: quote it when printing
	Err  error
}

func (r Rejected) Error() string { return fmt.Sprintf("%q: %v", r.Name, r.Err) }

// Browse asks for instances of the service and collects answers until the timeout or ctx
// ends. It returns the valid ones, each instance once, sorted by name, and the answers it
// rejected (bad TXT records, names or addresses). An error means it could ask neither over
// IPv4 nor over IPv6.
func Browse(ctx context.Context, cfg BrowseConfig) ([]Ad, []Rejected, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultBrowse
	}
	svc := service(cfg.Service)
	logf := logger(cfg.Logger).Printf
	// IPv4 and IPv6 are asked separately: a link often has only one of them working (no
	// IPv6 address yet, or no IPv4 route to the multicast group).
	families := []struct {
		name string
		v6   bool
	}{{"IPv4", false}, {"IPv6", true}}
	type result struct {
		entries []*entry
		err     error
	}
	results := make(chan result, len(families))
	for _, f := range families {
		go func() {
			es, err := query(ctx, svc, f.v6, cfg.Iface, timeout, logf)
			if err != nil {
				err = fmt.Errorf("%s: %w", f.name, err)
			}
			results <- result{es, err}
		}()
	}
	var all []*entry
	var failed []error
	for range families {
		r := <-results
		all = append(all, r.entries...)
		if r.err != nil {
			failed = append(failed, r.err)
		}
	}
	if ctx.Err() != nil {
		return nil, nil, fmt.Errorf("browse %s: %w", svc, context.Cause(ctx))
	}
	var ads []Ad
	var rejected []Rejected
	for _, e := range all {
		a, err := adFrom(e, svc)
		if err != nil {
			rejected = append(rejected, Rejected{Name: e.Name, Err: err})
			continue
		}
		if slices.ContainsFunc(ads, func(b Ad) bool { return b.Instance == a.Instance }) {
			continue
		}
		ads = append(ads, a)
	}
	if len(failed) == len(families) {
		return ads, rejected, fmt.Errorf("browse %s: %w", svc, errors.Join(failed...))
	}
	slices.SortFunc(ads, func(a, b Ad) int { return strings.Compare(a.Instance, b.Instance) })
	return ads, rejected, nil
}

// adFrom checks one answer: the instance name, the address, the port and the TXT record.
func adFrom(e *entry, svc string) (Ad, error) {
	suffix := "." + svc + "." + domain + "."
	inst, ok := strings.CutSuffix(e.Name, suffix)
	if !ok {
		return Ad{}, fmt.Errorf("not an instance of %s", svc)
	}
	if err := CheckInstance(inst); err != nil {
		return Ad{}, err
	}
	a, err := ParseTXT(e.InfoFields)
	if err != nil {
		return Ad{}, err
	}
	a.Instance = inst
	if e.Port < 1 || e.Port > 65535 {
		return Ad{}, fmt.Errorf("port %d", e.Port)
	}
	var ip netip.Addr
	switch {
	case e.AddrV4 != nil:
		ip, ok = netip.AddrFromSlice(e.AddrV4.To4())
	case e.AddrV6 != nil:
		ip, ok = netip.AddrFromSlice(e.AddrV6.IP.To16())
		ip = ip.WithZone(e.AddrV6.Zone)
	}
	if !ok || !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() {
		return Ad{}, fmt.Errorf("no usable address")
	}
	a.Addr = netip.AddrPortFrom(ip, uint16(e.Port))
	return a, nil
}

func service(s string) string {
	if s == "" {
		return ServiceType
	}
	return s
}

func logger(l *log.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return l
}

// hostIPs lists the machine's addresses another machine could reach: up interfaces,
// not loopback, IPv4 and IPv6 unicast (link-local IPv6 only reaches the link, which is
// where multicast DNS answers go anyway).
func hostIPs() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsMulticast() || ipn.IP.IsUnspecified() {
				continue
			}
			ips = append(ips, ipn.IP)
		}
	}
	return ips
}
