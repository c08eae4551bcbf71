package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runCLI runs the streamkit command line in-process, as a fresh process
// would: newRootCmdFor builds the commands and flags afresh, so a flag one
// test sets cannot leak into the next (or into a second -count run).
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmdFor(args)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestNoFlagState pins the registration convention of main.go: every run
// gets new commands, so a flag set in one tree is at its default in the next.
func TestNoFlagState(t *testing.T) {
	var visit func(c *cobra.Command, fn func(*cobra.Command))
	visit = func(c *cobra.Command, fn func(*cobra.Command)) {
		fn(c)
		for _, sub := range c.Commands() {
			visit(sub, fn)
		}
	}
	first := newRootCmd()
	n := 0
	visit(first, func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			// any value other than the default will do
			if f.Value.Set("1") == nil || f.Value.Set("x") == nil || f.Value.Set("true") == nil {
				f.Changed = true
				n++
			}
		})
	})
	if n < 20 {
		t.Fatalf("only %d flags could be set: is the command tree built?", n)
	}
	visit(newRootCmd(), func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Changed || f.Value.String() != f.DefValue {
				t.Errorf("%s --%s = %q in a new tree, want its default %q", c.CommandPath(), f.Name, f.Value.String(), f.DefValue)
			}
		})
	})
	for _, path := range [][]string{{"probe"}, {"abr", "run"}, {"abr", "sweep"}, {"package"}} {
		if c, rest, err := newRootCmd().Find(path); err != nil || len(rest) > 0 || c.Name() != path[len(path)-1] {
			t.Errorf("%v: not registered (%v)", path, err)
		}
	}
}

func TestConfigureRoot(t *testing.T) {
	saved := rootSetup
	defer func() { rootSetup = saved }()
	configureRoot(func(root *cobra.Command) {
		root.Version = "v9.9.9"
		root.SetVersionTemplate("streamkit {{.Version}}\n")
	})
	out, err := runCLI(t, "--version")
	if err != nil || out != "streamkit v9.9.9\n" {
		t.Fatalf("--version: %q, %v", out, err)
	}
}

func TestRegisterUnder(t *testing.T) {
	saved := subcommands
	defer func() { subcommands = saved }()
	registerUnder("abr", func() *cobra.Command {
		return &cobra.Command{Use: "extra", RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Print("extra ran")
			return nil
		}}
	})
	out, err := runCLI(t, "abr", "extra")
	if err != nil || out != "extra ran" {
		t.Fatalf("abr extra: %q, %v", out, err)
	}
	registerUnder("nope", func() *cobra.Command { return &cobra.Command{Use: "x"} })
	defer func() {
		if recover() == nil {
			t.Error("registerUnder of a missing parent did not panic")
		}
	}()
	newRootCmd()
}

// TestRootCmdFor: the tree built for a run of one named command holds that
// command as the whole tree has it (every subcommand and flag), and no
// other; anything else (a flag, help, an unknown name) gets the whole tree.
func TestRootCmdFor(t *testing.T) {
	shape := func(c *cobra.Command) []string {
		var out []string
		var visit func(c *cobra.Command)
		visit = func(c *cobra.Command) {
			c.Flags().VisitAll(func(f *pflag.Flag) { out = append(out, c.CommandPath()+" --"+f.Name+"="+f.DefValue) })
			out = append(out, c.CommandPath())
			for _, sub := range c.Commands() {
				visit(sub)
			}
		}
		visit(c)
		return out
	}
	full := newRootCmd()
	named := 0
	for _, c := range commands {
		if c.name == "" {
			continue
		}
		named++
		part := newRootCmdFor([]string{c.name, "--help"})
		var names []string
		for _, sub := range part.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				names = append(names, sub.Name())
			}
		}
		if len(names) != 1 || names[0] != c.name {
			t.Errorf("%s: partial tree has %v", c.name, names)
			continue
		}
		want, _, _ := full.Find([]string{c.name})
		got, _, _ := part.Find([]string{c.name})
		if w, g := strings.Join(shape(want), "\n"), strings.Join(shape(got), "\n"); w != g {
			t.Errorf("%s: partial tree differs from the whole tree's:\n%s\nvs\n%s", c.name, g, w)
		}
	}
	if named < 10 {
		t.Fatalf("only %d commands registered by name", named)
	}
	for _, args := range [][]string{nil, {"--version"}, {"help", "abr"}, {"nosuch"}, {""}} {
		if n, m := len(newRootCmdFor(args).Commands()), len(full.Commands()); n != m {
			t.Errorf("%q: %d commands, want the whole tree's %d", args, n, m)
		}
	}
}
