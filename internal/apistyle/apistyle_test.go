package apistyle

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// moduleRoot is the directory of go.mod above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above " + dir)
		}
		dir = up
	}
}

// TestModule is the rule: every library package of streamkit takes
// optional settings as functional options and a context first.
func TestModule(t *testing.T) {
	root := moduleRoot(t)
	vs, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, v := range vs {
		if reason, ok := Allowed[v.Type]; ok && v.Type != "" {
			used[v.Type] = true
			t.Logf("allowed %s (%s)", v.Type, reason)
			continue
		}
		rel, _ := filepath.Rel(root, v.Pos.Filename)
		if reason, ok := Pending[v.Type]; ok && v.Type != "" {
			used[v.Type] = true
			t.Logf("pending %s:%d: %s (%s)", rel, v.Pos.Line, v.Msg, reason)
			continue
		}
		t.Errorf("%s:%d: %s", rel, v.Pos.Line, v.Msg)
	}
	// An allowance nothing needs any more is removed, so that the list
	// says only true things. (A pending one is only logged: the branch
	// that fixes it may land before this list is edited.)
	var stale []string
	for name := range Allowed {
		if !used[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		t.Errorf("apistyle.Allowed lists %s, which no longer needs it: remove it", name)
	}
	for name := range Pending {
		if !used[name] {
			t.Logf("apistyle.Pending lists %s, which no longer needs it: remove it", name)
		}
	}
}

// bad is every form the rule refuses, and good the forms it accepts.
const bad = `package bad

import "context"

type Options struct{ N int }
type ScanConfig struct{ N int }
type Point struct{ X int }

func Run(ctx context.Context, o Options) error       { return nil }
func Scan(c *ScanConfig)                              {}
func Draw(pts ...Point)                               {}
func Late(name string, ctx context.Context) error     { return nil }
func Foreign(o *other.DialOpts)                       {}
type Hook func(cfg Options)
type T struct{}
func (T) Serve(ctx context.Context, c ScanConfig)     {}
`

const good = `package good

import "context"

type Option func(*config)
type config struct{ n int }
type Sample struct{ PTS int64 }

func WithN(n int) Option                                   { return func(c *config) { c.n = n } }
func Run(ctx context.Context, name string, opts ...Option) { }
func Write(ctx context.Context, s []Sample, more ...int)   { }
func unexported(o Options)                                 { }
type Hook func(*config)
type hidden struct{}
func (hidden) Serve(c ScanConfig)                          { }
`

func parse(t *testing.T, src string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	return fset, []*ast.File{f}
}

// TestRefuses shows the check is able to fail: each bad form is reported
// once, the good forms not at all.
func TestRefuses(t *testing.T) {
	fset, files := parse(t, bad)
	var got []string
	for _, v := range checkFiles(fset, "bad", files) {
		got = append(got, v.Msg)
	}
	want := []string{
		"exported struct bad.Options",
		"exported struct bad.ScanConfig",
		"bad.Run takes a Options",
		"bad.Scan takes a ScanConfig",
		"bad.Draw takes ...Point",
		"bad.Late takes a context.Context as parameter 2",
		"bad.Foreign takes a other.DialOpts",
		"bad.Hook takes a Options",
		"bad.(T).Serve takes a ScanConfig",
	}
	if len(got) != len(want) {
		t.Errorf("got %d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("no violation %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	fset, files = parse(t, good)
	for _, v := range checkFiles(fset, "good", files) {
		t.Errorf("good code refused: %s", v)
	}
}
