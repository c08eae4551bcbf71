package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/abr"
)

func init() { registerAs("abr", newAbrCmd) }

// newAbrCmd builds "abr" with its subcommands; its flags are locals of
// each subcommand's constructor.
func newAbrCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "abr",
		Short: "Simulate ABR players over throughput traces (Sabre- and Pensieve-exact)",
		Long: `Simulate adaptive-bitrate players over network traces.

  streamkit abr sabre ...     one session with Sabre's command line and output
  streamkit abr pensieve ...  Pensieve's fixed environment with BB / robustMPC
  streamkit abr sweep ...     traces × algorithms × parameters, in parallel
  streamkit abr merge ...     merge sharded sweep outputs
  streamkit abr algos         list the registered algorithms`,
	}
	cmd.AddCommand(newAbrSabreCmd(), newAbrAlgosCmd(), newAbrRunCmd(), newAbrPensieveCmd(), newAbrSweepCmd(), newAbrMergeCmd())
	return cmd
}

func newAbrSabreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sabre [Sabre options]",
		Short: "Run one session exactly as Sabre's sabre.py would, with the same options and output",
		Long: "Run one session in the Sabre model and print the same lines as Sabre.\n\n" + abr.SabreUsage +
			"\n\nextra options:\n  --log FILE.csv|FILE.jsonl  per-segment log\n  --svg FILE.svg             session timeline",
		Example: `  cd ../shared/abr/sabre
  streamkit abr sabre -n 4Glogs/report_bus_0001.json -m bbb4k.json -b 25 -ao -a bolae
  streamkit abr sabre -n 3Glogs/report.2010-09-13_1046CEST.json -m bbb.json -b 10 -a throughput -noa -v`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "-h" || a == "--help" {
					return cmd.Help()
				}
			}
			return abrRunSabre(cmd, args)
		},
	}
}

func newAbrAlgosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "algos",
		Short: "List the registered ABR algorithms",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range abr.Names() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-12s %s\n", n, abr.Describe(n))
			}
			return nil
		},
	}
}
