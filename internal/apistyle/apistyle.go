// Package apistyle keeps one option style across streamkit's library
// packages, the style of mp4ff, mediacommon and pion: a constructor or an
// entry point takes what it must have as parameters and everything
// optional as functional options (type Option func(*config), WithXxx(...)
// Option), and long work takes a context.Context as its first argument.
//
// Check reads the source with go/parser (no build, no type checker, so it
// runs in a fraction of a second over the whole module) and reports, for
// every exported function, method and function type of a package:
//
//   - a parameter whose type name ends in Options, Config or Opts (an options
//     struct passed by value, pointer or slice);
//   - a variadic parameter of a struct type declared in the package (the
//     "...Options" trick for optional structs);
//   - a context.Context that is not the first parameter;
//
// and every exported struct type whose name ends in Options, Config or Opts
// (the shape of an options struct, even before a function takes it).
//
// Types that describe data rather than configure a call (a codec's
// configuration record, an opaque resolved option set) are allowed by
// name in Allowed, each with the reason. The test in this package runs
// Check over the module; a type that no longer needs its allowance fails
// it too, so the list stays honest.
package apistyle

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Allowed are the type names (package path relative to the module root,
// a dot, the type) Check accepts although they look like options structs,
// each with the reason it is data.
var Allowed = map[string]string{
	"media.CodecConfig": "a track's decoder configuration record (avcC, hvcC, AudioSpecificConfig, dac3): data read from the container, not options",
	"abr.Config":        "opaque: the resolved set of AlgorithmOptions that New hands a registered Constructor, read through methods; built only by NewConfig(opts...)",
	"p2pbench.Config":   "an experiment's description (peers, uplink, durations), shared by the measurement and the simulator and kept whole in every Report beside the results it produced; functional options would be the cleaner API (its Logf/LogEvery fields are settings, not data)",
}

// Pending are violations known in a package that another branch is
// reworking; they are reported as test log lines, not failures, and leave
// this list once that package follows the style.
var Pending = map[string]string{}

// A Violation is one breach of the style.
type Violation struct {
	Pos  token.Position // where it is declared
	Type string         // the offending type, "pkg.Name"; empty for a misplaced context
	Msg  string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s", v.Pos, v.Msg) }

// suffixes are the names of options structs.
var suffixes = []string{"Options", "Config", "Opts"}

// exportedOptionsName reports whether a parameter's type ("T", "pkg.T")
// is an exported options struct: an unexported config is what a
// functional option (func(*config)) sets, and fine.
func exportedOptionsName(name string) bool {
	last := name[strings.LastIndex(name, ".")+1:]
	return ast.IsExported(last) && optionsName(last)
}

func optionsName(name string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// Check reports the violations in every library package under root: every
// directory with Go files except main packages, test files, testdata
// and hidden directories (internal packages are checked too:
// they are the library's own API to itself). root is the module root.
func Check(root string) ([]Violation, error) {
	var out []Violation
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		vs, err := CheckDir(path, filepath.ToSlash(rel))
		out = append(out, vs...)
		return err
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pos.Filename != out[j].Pos.Filename {
			return out[i].Pos.Filename < out[j].Pos.Filename
		}
		return out[i].Pos.Line < out[j].Pos.Line
	})
	return out, err
}

// CheckDir reports the violations of the package in dir (its non-test Go
// files), naming its types rel.Name; a main package has no API and none.
func CheckDir(dir, rel string) ([]Violation, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "main" {
			return nil, nil
		}
		files = append(files, f)
	}
	return checkFiles(fset, rel, files), nil
}

func checkFiles(fset *token.FileSet, rel string, files []*ast.File) []Violation {
	// the struct types the package declares, for the variadic rule
	structs := map[string]bool{}
	for _, f := range files {
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if _, ok := ts.Type.(*ast.StructType); ok {
						structs[ts.Name.Name] = true
					}
				}
			}
		}
	}
	var out []Violation
	add := func(pos token.Pos, typ, format string, args ...any) {
		out = append(out, Violation{Pos: fset.Position(pos), Type: typ, Msg: fmt.Sprintf(format, args...)})
	}
	qualify := func(name string) string {
		if strings.Contains(name, ".") {
			return name
		}
		return rel + "." + name
	}
	params := func(what string, ft *ast.FuncType) {
		if ft.Params == nil {
			return
		}
		i := 0
		for _, field := range ft.Params.List {
			n := max(len(field.Names), 1)
			name, variadic := typeName(field.Type)
			switch {
			case name == "context.Context" && i != 0:
				add(field.Pos(), "", "%s takes a context.Context as parameter %d; long work takes it first", what, i+1)
			case name != "" && exportedOptionsName(name):
				add(field.Pos(), qualify(name), "%s takes a %s: optional settings are functional options (WithXxx(...) Option), not a struct", what, name)
			case variadic && structs[name]:
				add(field.Pos(), qualify(name), "%s takes ...%s: a variadic struct is an options struct in disguise; use functional options", what, name)
			}
			i += n
		}
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				what := d.Name.Name
				if d.Recv != nil && len(d.Recv.List) == 1 {
					recv, _ := typeName(d.Recv.List[0].Type)
					if recv == "" || !ast.IsExported(recv) {
						continue
					}
					what = "(" + recv + ")." + what
				}
				params(rel+"."+what, d.Type)
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					continue
				}
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					if !ts.Name.IsExported() {
						continue
					}
					switch t := ts.Type.(type) {
					case *ast.FuncType:
						params(rel+"."+ts.Name.Name, t)
					case *ast.StructType:
						if optionsName(ts.Name.Name) {
							add(ts.Pos(), qualify(ts.Name.Name), "exported struct %s.%s has the shape of an options struct; use functional options (or allow it as data in apistyle.Allowed, saying why)", rel, ts.Name.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// typeName is the name of a parameter's type with pointers, slices and
// the variadic ellipsis taken off ("T", "pkg.T"), and whether it was
// variadic; "" for a type without a name (a func, a map, a struct literal).
func typeName(e ast.Expr) (name string, variadic bool) {
	for {
		switch t := e.(type) {
		case *ast.Ellipsis:
			variadic = true
			e = t.Elt
		case *ast.StarExpr:
			e = t.X
		case *ast.ArrayType:
			e = t.Elt
		case *ast.IndexExpr: // a generic instance T[X]
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident:
			return t.Name, variadic
		case *ast.SelectorExpr:
			if x, ok := t.X.(*ast.Ident); ok {
				return x.Name + "." + t.Sel.Name, variadic
			}
			return "", variadic
		default:
			return "", variadic
		}
	}
}
