// Command streamkit inspects, remuxes, packages and serves media, and
// simulates ABR players, in pure Go.
//
// # How commands are added
//
// Each subcommand lives in its own file as a constructor that builds it
// afresh, its flags bound to locals of that call, and registers the
// constructor (not a built command) from an init function:
//
//	func init() { registerAs("live", newLiveCmd) }
//
//	func newLiveCmd() *cobra.Command {
//		var addr string
//		cmd := &cobra.Command{Use: "live", RunE: func(...) error { … addr … }}
//		cmd.Flags().StringVar(&addr, "addr", ":8080", "…")
//		return cmd
//	}
//
// A subcommand of a registered command is added by its parent's
// constructor, or from another file with registerUnder("abr", newAbrXxxCmd).
// A file that sets something on the root command itself (its Version, a
// persistent flag) does it in a function given to configureRoot from its
// init. newRootCmd calls every constructor and configurer for each run, so
// the package holds no flag state: no value set by one Execute (or one
// test, or one -count run) is seen by the next. main runs
// newRootCmdFor(os.Args[1:]).Execute(), as tests do (runCLI): a command
// registered with its name (registerAs) is then built alone when the
// command line starts with that name, the others not at all. Building every
// command's flags cost each run about 3% of its start-up (BENCHMARKS.md,
// "Start-up"); register without a name still works and builds the whole
// tree. Features land without touching this file.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// commands are the constructors of the top-level subcommands, and subcommands
// the constructors added under a command by path ("abr"). Both are filled by
// init functions only and hold constructors, never built commands.
var (
	commands    []command
	subcommands []subcommand
	rootSetup   []func(root *cobra.Command)
)

type command struct {
	name string // the command's Name
	new  func() *cobra.Command
}

type subcommand struct {
	parent string // space-separated path below the root, e.g. "abr"
	new    func() *cobra.Command
}

// registerAs adds the top-level subcommand whose Name is name; call it
// from an init function. A run of that command builds it (and what
// registerUnder adds below it) without the others.
func registerAs(name string, newCmd func() *cobra.Command) {
	commands = append(commands, command{name, newCmd})
}

// registerUnder adds a subcommand below the command at parent (a
// space-separated path such as "abr"); call it from an init function.
func registerUnder(parent string, newCmd func() *cobra.Command) {
	subcommands = append(subcommands, subcommand{parent, newCmd})
}

// configureRoot adds fn to what newRootCmd does to each root command it
// builds (after creating it, before adding subcommands); call it from an
// init function.
func configureRoot(fn func(root *cobra.Command)) { rootSetup = append(rootSetup, fn) }

// newRootCmd builds the whole command tree, fresh.
func newRootCmd() *cobra.Command { return buildRoot("") }

// newRootCmdFor builds the tree a run with these arguments needs: only the
// command args[0] names when it was registered with registerAs, else the
// whole tree (help, completion, flags first, unknown commands).
func newRootCmdFor(args []string) *cobra.Command {
	if len(args) > 0 && args[0] != "" {
		for _, c := range commands {
			if c.name == args[0] {
				return buildRoot(c.name)
			}
		}
	}
	return newRootCmd()
}

// buildRoot builds the root command with every registered command, or
// only the one named only.
func buildRoot(only string) *cobra.Command {
	root := &cobra.Command{
		Use:   "streamkit",
		Short: "Inspect, remux, package and serve media; simulate ABR players",
		Long: `streamkit is a pure-Go toolkit for streaming engineers.

It reads MP4, fragmented MP4/CMAF and MPEG-TS without FFmpeg, reports what
ffprobe reports (in ffprobe's own JSON schema with --json), and simulates
adaptive-bitrate players over throughput traces.`,
		Example: `  streamkit demo                     # run the tour on the embedded sample
  streamkit probe movie.mp4          # what is in this file?
  streamkit probe --json movie.mp4   # the same, as ffprobe -show_format -show_streams JSON
  streamkit boxes movie.mp4          # the MP4 box tree with offsets and sizes`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, fn := range rootSetup {
		fn(root)
	}
	for _, c := range commands {
		if only != "" && c.name != only {
			continue
		}
		cmd := c.new()
		if cmd.Name() != c.name {
			panic(fmt.Sprintf("streamkit: registerAs(%q) built %q", c.name, cmd.Name()))
		}
		root.AddCommand(cmd)
	}
	for _, sc := range subcommands {
		if first, _, _ := strings.Cut(strings.TrimSpace(sc.parent), " "); only != "" && first != only {
			continue
		}
		parent, rest, err := root.Find(strings.Fields(sc.parent))
		if err != nil || len(rest) > 0 || parent == root {
			// a programming error in an init function: fail loudly
			panic(fmt.Sprintf("streamkit: registerUnder(%q): no such command", sc.parent))
		}
		parent.AddCommand(sc.new())
	}
	return root
}

func main() {
	if err := execute(); err != nil {
		fmt.Fprintln(os.Stderr, "streamkit:", oneLine(err))
		os.Exit(exitCode(err))
	}
}

// oneLine keeps CLI errors to one line, as the brief promises users.
func oneLine(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
