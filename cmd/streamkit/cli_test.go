package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runCLI runs the streamkit command line in-process, as a fresh process
// would: every flag of every command is put back to its default first, so
// a flag one test sets cannot leak into the next (or into a second
// -count run).
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	resetFlags(t, rootCmd)
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	err := rootCmd.Execute()
	return out.String(), err
}

func resetFlags(t *testing.T, c *cobra.Command) {
	reset := func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			var def []string
			if d := strings.Trim(f.DefValue, "[]"); d != "" {
				def = strings.Split(d, ",")
			}
			if err := sv.Replace(def); err != nil {
				t.Fatalf("reset --%s: %v", f.Name, err)
			}
		} else if err := f.Value.Set(f.DefValue); err != nil {
			t.Fatalf("reset --%s to %q: %v", f.Name, f.DefValue, err)
		}
		f.Changed = false
	}
	c.Flags().VisitAll(reset)
	c.PersistentFlags().VisitAll(reset)
	for _, sub := range c.Commands() {
		resetFlags(t, sub)
	}
}
