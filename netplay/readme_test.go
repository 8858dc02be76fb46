package netplay_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeSnippet: the README's "use it in your game" code is Example_useInYourGame's, line
// for line (spacing aside), so the snippet people copy compiles with today's API.
func TestReadmeSnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const section = "## Use it in your game"
	_, after, ok := strings.Cut(string(readme), section)
	if !ok {
		t.Fatalf("README.md has no %q section", section)
	}
	_, after, ok = strings.Cut(after, "```go\n")
	snippet, _, closed := strings.Cut(after, "```")
	if !ok || !closed {
		t.Fatalf("the %q section of README.md has no go code block", section)
	}
	example, err := os.ReadFile("example_window_test.go")
	if err != nil {
		t.Fatal(err)
	}
	want, got := normalize(snippet), normalize(string(example))
	if len(want) < 10 {
		t.Fatalf("the README's snippet has %d lines; is it the right block?", len(want))
	}
	if !strings.Contains("\n"+strings.Join(got, "\n")+"\n", "\n"+strings.Join(want, "\n")+"\n") {
		t.Errorf("README.md's snippet is not in Example_useInYourGame (example_window_test.go); the snippet:\n%s", strings.Join(want, "\n"))
	}
}

// normalize splits code into its non-empty lines with runs of spaces and tabs made one.
func normalize(code string) []string {
	var lines []string
	for _, l := range strings.Split(code, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
