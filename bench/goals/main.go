// Command goals reads the output of the benchmarks (go test ./bench -bench ..., as make
// bench writes it to bench/latest.txt) and prints one line per goal of the project: the
// goal, the measured figure (the median over the runs of the metric it rests on) and
// whether it is met. make bench ends with it:
//
//	go run ./bench/goals bench/latest.txt
//
// The goals, each with the benchmark, metric and threshold it is judged by, are the table
// goals below and nowhere else; bench/doc.go says what each metric measures. A goal whose
// benchmark is missing from the file shows as "not measured". Exit status: 0 once the
// table is printed, met or not; 1 if the file cannot be read or holds no benchmark lines.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// goal is one line of the table: the metric unit of the benchmarks whose names match
// bench, reduced over them by worst (the largest median, or the smallest for atLeast),
// compared with limit.
type goal struct {
	text    string
	bench   string // a regular expression for benchmark names (without the -N CPU suffix)
	unit    string // the metric, as the benchmark reports it
	atLeast bool   // the figure must be >= limit; otherwise <= limit
	limit   float64
	show    func(v float64) string // the figure as the table shows it
}

var goals = []goal{
	{"handshake on loopback < 2 ms", `^BenchmarkHandshake$`, "handshake-ms", false, 2, ms},
	{"input latency p50 < 100 µs", `^BenchmarkInputLatency/`, "p50-ms", false, 0.1, msAsMicro},
	{"input latency p99 < 1 ms (plus the input delay)", `^BenchmarkInputLatency/`, "p99-ms", false, 1, msAsMicro},
	{"8-frame rollback, 50 coins < 0.2% of a frame", `^BenchmarkFrame/coins=50/rollback=8$`, "%budget", false, 0.2, percent},
	{"8-frame rollback, 10,000 coins < 25% of a frame", `^BenchmarkFrame/coins=10000/rollback=8$`, "%budget", false, 25, percent},
	{"8-frame rollback, 100,000 coins ≤ 25% of a frame", `^BenchmarkFrame/coins=100000/rollback=8$`, "%budget", false, 25, percent},
	{"first frame ≤ 20 ms after both peers start (loopback)", `^BenchmarkFirstFrame$`, "first-frame-ms", false, 20, ms},
	{"frame starts within 2 ms of the 60 Hz grid (p99)", `^BenchmarkFrameJitter$`, "frame-jitter-ms", false, 2, ms},
	{"steady session frame, 50 coins < 20 µs", `^BenchmarkFrame/coins=50/rollback=0$`, "ns/frame", false, 20000, ns},
	{"0 allocations per session frame", `^BenchmarkFrame/`, "allocs/op", false, 0, count},
	{"bot play ≤ 12 payload bytes per frame (0% loss)", `^BenchmarkWire/input=bot/rtt=0ms/loss=0%$`, "wire-B/frame", false, 12, bytes},
	{"bot play ≤ 1.1 datagrams per frame (0% loss)", `^BenchmarkWire/input=bot/rtt=0ms/loss=0%$`, "datagrams/frame", false, 1.1, plain},
	{"the prototype's stream ≥ 30× larger, 50 coins", `^BenchmarkStream/coins=50/enc=msgpack$`, "stream/input", true, 30, times},
	{"10,000-coin rejoin ≤ 2 s on loopback, 0% and 5% loss", `^BenchmarkRejoin/coins=10000/`, "rejoin-ms", false, 2000, ms},
	{"10,000-coin resync ≤ 0.5 s, loopback, 0% and 5% loss", `^BenchmarkResync/coins=10000/`, "ms/resync", false, 500, ms},
}

func ms(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) + " ms" }
func msAsMicro(v float64) string {
	return strconv.FormatFloat(v*1000, 'g', 3, 64) + " µs"
}
func ns(v float64) string      { return strconv.FormatFloat(v, 'g', 3, 64) + " ns" }
func percent(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) + "%" }
func count(v float64) string   { return strconv.FormatFloat(v, 'f', -1, 64) }
func bytes(v float64) string   { return strconv.FormatFloat(v, 'f', 2, 64) + " B" }
func plain(v float64) string   { return strconv.FormatFloat(v, 'f', 3, 64) }
func times(v float64) string   { return strconv.FormatFloat(v, 'f', 1, 64) + "×" }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/goals bench/latest.txt")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "goals: %v\n", err)
		os.Exit(1)
	}
	defer f.Close()
	res, err := parse(f)
	if err == nil && len(res) == 0 {
		err = errors.New("no benchmark lines")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "goals: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := printTable(os.Stdout, goals, res); err != nil {
		fmt.Fprintf(os.Stderr, "goals: %v\n", err)
		os.Exit(1)
	}
}

// results maps a benchmark name (without the -N suffix) to its metrics, each with the
// values of every run.
type results map[string]map[string][]float64

// cpuSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var cpuSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output: lines "BenchmarkName-N  iterations  value unit ...".
// Other lines (goos:, PASS, ok, logs) are skipped; a benchmark line with a value that is
// not a number is an error.
func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			continue // "BenchmarkX ... FAIL" or a log line that starts with the name
		}
		if len(fields)%2 != 0 {
			return nil, fmt.Errorf("line %d: values and units do not pair up: %q", n, sc.Text())
		}
		name := cpuSuffix.ReplaceAllString(fields[0], "")
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q is not a number", n, fields[i])
			}
			res[name][fields[i+1]] = append(res[name][fields[i+1]], v)
		}
	}
	return res, sc.Err()
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// figure is goal g's measured value: over the matching benchmarks, the worst median.
// ok is false if no benchmark reported the metric.
func (g goal) figure(res results) (v float64, ok bool) {
	re := regexp.MustCompile(g.bench)
	names := make([]string, 0, len(res))
	for name := range res {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vs := res[name][g.unit]
		if !re.MatchString(name) || len(vs) == 0 {
			continue
		}
		m := median(vs)
		if !ok || (g.atLeast && m < v) || (!g.atLeast && m > v) {
			v, ok = m, true
		}
	}
	return v, ok
}

func (g goal) met(v float64) bool {
	if g.atLeast {
		return v >= g.limit
	}
	return v <= g.limit
}

func printTable(w io.Writer, gs []goal, res results) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "goal\tmedian\tresult")
	for _, g := range gs {
		v, ok := g.figure(res)
		switch {
		case !ok:
			fmt.Fprintf(tw, "%s\t-\tnot measured\n", g.text)
		case g.met(v):
			fmt.Fprintf(tw, "%s\t%s\tmet\n", g.text, g.show(v))
		default:
			fmt.Fprintf(tw, "%s\t%s\tNOT MET\n", g.text, g.show(v))
		}
	}
	return tw.Flush()
}
