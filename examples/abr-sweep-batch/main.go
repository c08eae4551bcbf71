// Command abr-sweep-batch runs one ABR sweep the way a batch system runs
// it: as N shards on N machines, each finding its shard in the environment
// the batch system gives it (a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX, a Slurm job array's SLURM_ARRAY_TASK_ID), each
// writing its part to a shared directory, and one merge after them that
// gives exactly the table one machine would have written.
//
// Here the "machines" are goroutines with an environment of their own; the
// manifests next to this file (sweep-indexed-job.yaml, sweep.sbatch) do
// the same on a real cluster with the streamkit CLI.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/abr"
)

func main() {
	root := findRepo()
	shared := filepath.Join(root, "..", "shared")
	if dir := os.Getenv("STREAMKIT_SHARED"); dir != "" {
		shared = dir // a checkout whose ../shared lives elsewhere
	}
	traces := filepath.Join(shared, "abr", "sabre", "hd_fs")
	movie := filepath.Join(shared, "abr", "sabre", "bbb4k.json")
	if _, err := os.Stat(traces); err != nil {
		traces = filepath.Join(root, "testdata", "abr", "sabre", "*", "*.json")
		movie = filepath.Join(root, "testdata", "abr", "sabre", "bbb4k.json")
	}
	files, err := abr.TraceFiles(traces)
	if err != nil {
		log.Fatal(err)
	}
	args := []string{"-m", movie, "-b", "25", "-ao", "-a", "bolae", "-ml", "180"}
	out, err := os.MkdirTemp("", "abr-sweep-batch-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)
	fmt.Printf("Sweep: Sabre's BOLA-E (-ao) over %d traces (%s), %v\n", len(files), traces, args)
	fmt.Printf("Shared directory (the Job's volume, the cluster's file system): %s\n\n", out)

	// 1. A Kubernetes Indexed Job with completions: 4. Kubernetes gives each
	// pod its index but not the count, so the manifest sets STREAMKIT_SHARDS.
	k8s := func(i int) map[string]string {
		return map[string]string{abr.EnvK8sIndex: fmt.Sprint(i), abr.EnvShards: "4"}
	}
	// 2. A Slurm array, sbatch --array=1-3: ids 1..3 are shards 0..2.
	slurm := func(i int) map[string]string {
		return map[string]string{abr.EnvSlurmIndex: fmt.Sprint(i + 1), abr.EnvSlurmMin: "1", abr.EnvSlurmCount: "3"}
	}
	start := time.Now()
	whole, err := abr.SweepSabre(context.Background(), args, files, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("One machine, no shards: %d rows in %v\n\n", len(whole.Rows), time.Since(start).Round(time.Millisecond))

	for _, sys := range []struct {
		name string
		n    int
		env  func(int) map[string]string
	}{{"kubernetes", 4, k8s}, {"slurm", 3, slurm}} {
		dir := filepath.Join(out, sys.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d tasks, each running `streamkit abr sweep ... --shard auto --out %s/part-<index>.csv`\n", sys.name, sys.n, sys.name)
		fmt.Printf("  %-46s  %-6s  %6s  %s\n", "task environment", "shard", "traces", "first trace")
		var wg sync.WaitGroup
		lines := make([]string, sys.n)
		for t := 0; t < sys.n; t++ {
			wg.Add(1)
			go func() { // one machine: it knows only its environment
				defer wg.Done()
				env := sys.env(t)
				i, n, err := abr.ParseShard("auto", func(k string) string { return env[k] })
				if err != nil {
					log.Fatal(err)
				}
				tb, err := abr.SweepSabre(context.Background(), args, files, nil, nil, abr.WithShard(i, n))
				if err != nil {
					log.Fatal(err)
				}
				writeCSV(filepath.Join(dir, fmt.Sprintf("part-%d.csv", i)), tb)
				first := "-"
				if len(tb.Rows) > 0 {
					first = tb.Rows[0][0]
				}
				lines[t] = fmt.Sprintf("  %-46s  %d/%-4d  %6d  %s", fmt.Sprint(env), i, n, len(tb.Rows), first)
			}()
		}
		wg.Wait()
		for _, l := range lines {
			fmt.Println(l)
		}
		// 3. The merge that follows (a second Job, or sbatch --dependency=afterok).
		parts, _ := filepath.Glob(filepath.Join(dir, "part-*.csv"))
		var tables []*abr.Table
		for _, p := range parts {
			f, err := os.Open(p)
			if err != nil {
				log.Fatal(err)
			}
			tb, err := abr.ReadTableCSV(f, p)
			f.Close()
			if err != nil {
				log.Fatal(err)
			}
			tables = append(tables, tb)
		}
		merged, err := abr.MergeTables(tables)
		if err != nil {
			log.Fatal(err)
		}
		same := csvString(merged) == csvString(whole)
		fmt.Printf("  merge of %d parts (`streamkit abr merge --out all.csv part-*.csv`): %d rows, identical to the one-machine table: %v\n\n",
			len(parts), len(merged.Rows), same)
		if !same {
			log.Fatal("merged shards differ from the unsharded sweep")
		}
	}
	fmt.Println(`Why it works: trace k (in sorted file order) belongs to shard k mod n, so the shards
split the traces without talking to each other, and every row carries its trace name, so
the merge sorts them back into one table whatever order the parts finish in. The count n
must be the same on every task: Kubernetes does not put the Job's completions in the pod's
environment (hence STREAMKIT_SHARDS in the manifest); Slurm gives SLURM_ARRAY_TASK_COUNT.
An index outside 0..n-1 (an array with gaps or a step) is an error, not a silent skip.

On a cluster: sweep-indexed-job.yaml + merge-job.yaml (kubectl), sweep.sbatch + merge.sbatch
(Slurm); see README.md.`)
}

func writeCSV(path string, t *abr.Table) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := t.WriteCSV(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func csvString(t *abr.Table) string {
	var b strings.Builder
	if err := t.WriteCSV(&b); err != nil {
		log.Fatal(err)
	}
	return b.String()
}

// findRepo looks for the repository root (testdata/abr) from the working
// directory up.
func findRepo() string {
	d, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	for {
		if st, err := os.Stat(filepath.Join(d, "testdata", "abr")); err == nil && st.IsDir() {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			log.Fatal("testdata/abr not found: run from inside the streamkit repository (go run ./examples/abr-sweep-batch)")
		}
		d = parent
	}
}
