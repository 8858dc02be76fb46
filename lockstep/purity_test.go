package lockstep

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPurity keeps the engine a pure state machine without anyone having to remember: its
// non-test sources may not import sockets, the OS, or this module's other packages (but the
// leaf helpers in leafImports, which import only the standard library), may not
// start goroutines, and may not read the clock or the global random source. lockstep's
// sub-packages (subPackages) are held to the same rules, and may import lockstep itself.
func TestPurity(t *testing.T) {
	forbiddenImports := map[string]string{
		"net":     "sockets belong in transport",
		"os":      "the engine touches no files or environment",
		"syscall": "no system calls",
		"unsafe":  "no unsafe",
	}
	forbiddenCalls := map[string]map[string]bool{
		"time": {"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "Tick": true, "NewTimer": true, "NewTicker": true, "AfterFunc": true},
		"rand": {"Int": true, "IntN": true, "Int64": true, "Uint64": true, "Uint32": true, "Float64": true, "N": true, "Perm": true, "Shuffle": true, "Int32": true, "Int64N": true, "Uint64N": true},
	}
	// leafImports are this module's packages the engine may use: pure functions on bytes
	// that import only the standard library, shared so that they are written once.
	leafImports := map[string]bool{
		"p2pa/internal/xxh64": true, // stateChecksum and codec.StateChecksum, the same XXH64 as the coin game's
	}
	// subPackages are lockstep's own sub-packages: beside the engine, and as pure as it.
	subPackages := []string{"codec", "synctest"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subPackages {
		more, err := filepath.Glob(filepath.Join(sub, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		if len(more) == 0 {
			t.Errorf("sub-package %s: no source files found", sub)
		}
		files = append(files, more...)
	}
	// A leaf is held to the same rules, or it would be a way around them.
	for leaf := range leafImports {
		more, err := filepath.Glob(filepath.Join("..", strings.TrimPrefix(leaf, "p2pa/"), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		if len(more) == 0 {
			t.Errorf("leaf %s: no source files found", leaf)
		}
		files = append(files, more...)
	}
	rules := purityRules{imports: forbiddenImports, calls: forbiddenCalls, leaves: leafImports}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		rules.check(t, name)
	}
	if checked < 5 {
		t.Fatalf("only %d source files checked; is the test running in the package directory?", checked)
	}
}

// purityRules are what TestPurity forbids: imports (with why), calls by package, and the
// leaf packages of ours that are allowed.
type purityRules struct {
	imports map[string]string
	calls   map[string]map[string]bool
	leaves  map[string]bool
}

// check checks one non-test source file against the rules.
func (r purityRules) check(t *testing.T, name string) {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]string{} // import name -> path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if why, bad := r.imports[path]; bad {
			t.Errorf("%s imports %q: %s", name, path, why)
		}
		sub := filepath.Dir(name) != "." && !strings.HasPrefix(name, "..")
		if strings.HasPrefix(path, "p2pa/") && !r.leaves[path] && !(sub && path == "p2pa/lockstep") {
			t.Errorf("%s imports %q: lockstep imports nothing of ours", name, path)
		}
		short := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			short = imp.Name.Name
		}
		local[short] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			t.Errorf("%s: a goroutine at %v", name, fset.Position(n.Pos()))
		case *ast.SelectorExpr:
			pkg, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			path := local[pkg.Name]
			base := path[strings.LastIndex(path, "/")+1:]
			if path == "time" || path == "math/rand" || path == "math/rand/v2" {
				if r.calls[base][n.Sel.Name] {
					t.Errorf("%s: %s.%s at %v reads the clock or a global random source", name, pkg.Name, n.Sel.Name, fset.Position(n.Pos()))
				}
			}
		}
		return true
	})
}
