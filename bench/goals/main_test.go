package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `goos: linux
goarch: amd64
pkg: p2pa/bench
cpu: AMD EPYC
BenchmarkHandshake-2              	    4411	    254695 ns/op	         0.2545 handshake-ms	       0 B/op	       0 allocs/op
BenchmarkHandshake-2              	    4000	    300000 ns/op	         3.1 handshake-ms	       0 B/op	       0 allocs/op
BenchmarkHandshake-2              	    4000	    200000 ns/op	         0.2 handshake-ms	       0 B/op	       0 allocs/op
BenchmarkFrame/coins=50/rollback=0-2 	 1000000	      1133 ns/op	         0.003352 %budget	       558.7 ns/frame	       0 B/op	       0 allocs/op
BenchmarkFrame/coins=50/rollback=8-2 	  243274	      4888 ns/op	         0.3 %budget	       4004 ns/frame	       0 B/op	       1 allocs/op
BenchmarkStream/coins=50/enc=msgpack-2 	 4299210	       273.4 ns/op	1159.67 MB/s	        30.32 stream/input
--- BENCH: BenchmarkFrame/coins=50/rollback=0-2
    frame_test.go:60: a log line
PASS
ok  	p2pa/bench	1.2s
`

func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := results{
		"BenchmarkHandshake": {
			"ns/op": {254695, 300000, 200000}, "handshake-ms": {0.2545, 3.1, 0.2}, "B/op": {0, 0, 0}, "allocs/op": {0, 0, 0},
		},
		"BenchmarkFrame/coins=50/rollback=0":   {"ns/op": {1133}, "%budget": {0.003352}, "ns/frame": {558.7}, "B/op": {0}, "allocs/op": {0}},
		"BenchmarkFrame/coins=50/rollback=8":   {"ns/op": {4888}, "%budget": {0.3}, "ns/frame": {4004}, "B/op": {0}, "allocs/op": {1}},
		"BenchmarkStream/coins=50/enc=msgpack": {"ns/op": {273.4}, "MB/s": {1159.67}, "stream/input": {30.32}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("parse (-want +got):\n%s", diff)
	}
}

func TestParseRejectsBadValues(t *testing.T) {
	for _, in := range []string{
		"BenchmarkX-2 10 fast ns/op\n",
		"BenchmarkX-2 10 5 ns/op 7\n",
	} {
		if _, err := parse(strings.NewReader(in)); err == nil {
			t.Errorf("parse(%q) accepted it", in)
		}
	}
}

// TestTable: the median decides (3.1 ms in one run of three does not fail the handshake),
// a goal over several benchmarks takes the worst, a missing benchmark is "not measured".
func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := printTable(&out, goals, res); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		for _, g := range goals {
			if strings.HasPrefix(l, g.text) {
				lines[g.text] = strings.Join(strings.Fields(strings.TrimPrefix(l, g.text)), " ")
			}
		}
	}
	want := map[string]string{
		"handshake on loopback < 2 ms":                          "0.255 ms met",
		"input latency p50 < 100 µs":                            "- not measured",
		"input latency p99 < 1 ms (plus the input delay)":       "- not measured",
		"8-frame rollback, 50 coins < 0.2% of a frame":          "0.3% NOT MET",
		"8-frame rollback, 10,000 coins < 25% of a frame":       "- not measured",
		"8-frame rollback, 100,000 coins ≤ 25% of a frame":      "- not measured",
		"first frame ≤ 20 ms after both peers start (loopback)": "- not measured",
		"frame starts within 2 ms of the 60 Hz grid (p99)":      "- not measured",
		"steady session frame, 50 coins < 20 µs":                "559 ns met",
		"0 allocations per session frame":                       "1 NOT MET",
		"bot play ≤ 12 payload bytes per frame (0% loss)":       "- not measured",
		"bot play ≤ 1.1 datagrams per frame (0% loss)":          "- not measured",
		"the prototype's stream ≥ 30× larger, 50 coins":         "30.3× met",
		"10,000-coin rejoin ≤ 2 s on loopback, 0% and 5% loss":  "- not measured",
		"10,000-coin resync ≤ 0.5 s, loopback, 0% and 5% loss":  "- not measured",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("table (-want +got):\n%s\n%s", diff, out.String())
	}
}

// FuzzParse: any input parses or is refused, without a panic, and a parsed result prints.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("BenchmarkX-2 10 5 ns/op 7\n")
	f.Fuzz(func(t *testing.T, in string) {
		res, err := parse(strings.NewReader(in))
		if err != nil {
			return
		}
		var out strings.Builder
		if err := printTable(&out, goals, res); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReadmeTable: the goal table the README shows is what this command prints for the
// bench/latest.txt in the tree, so the README's figures are never edited by hand or left
// behind by a new make bench (paste the table make bench prints into README.md).
func TestReadmeTable(t *testing.T) {
	f, err := os.Open("../latest.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := printTable(&table, goals, res); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```\n"+table.String()+"```\n") {
		t.Errorf("README.md does not show the goal table of bench/latest.txt in a code block; go run ./bench/goals bench/latest.txt prints:\n%s", table.String())
	}
}

// TestResyncGoal: BenchmarkResync's lines parse, and its goal takes the worst median of the
// 10,000-coin runs (5% loss here: 314 ms of 183, 314 and 520), the 50-coin ones aside.
func TestResyncGoal(t *testing.T) {
	const out = `BenchmarkResync/coins=50/loss=5%-2         	       1	3036372154 ns/op	       600.2 ms/resync	 3325088 B/op	     289 allocs/op
BenchmarkResync/coins=10000/loss=0%-2      	       1	3025550027 ns/op	        33.59 ms/resync	10856072 B/op	     269 allocs/op
BenchmarkResync/coins=10000/loss=5%-2      	       1	3421854766 ns/op	       314.1 ms/resync	10923336 B/op	     374 allocs/op
BenchmarkResync/coins=10000/loss=5%-2      	       1	3003446005 ns/op	       183.1 ms/resync	10899968 B/op	     338 allocs/op
BenchmarkResync/coins=10000/loss=5%-2      	       1	3003446005 ns/op	       520.0 ms/resync	10899968 B/op	     338 allocs/op
`
	res, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := printTable(&table, goals, res); err != nil {
		t.Fatal(err)
	}
	const want = "10,000-coin resync ≤ 0.5 s, loopback, 0% and 5% loss 314 ms met"
	for _, l := range strings.Split(table.String(), "\n") {
		if strings.Join(strings.Fields(l), " ") == want {
			return
		}
	}
	t.Errorf("no line %q in\n%s", want, table.String())
}
