package abr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Environment variables ParseShard reads for "auto".
const (
	// EnvK8sIndex is set by Kubernetes in every pod of an Indexed Job
	// (completionMode: Indexed) to the pod's index, 0 … completions−1.
	EnvK8sIndex = "JOB_COMPLETION_INDEX"
	// EnvSlurmIndex is set by Slurm in every task of a job array
	// (sbatch --array) to the task's array index.
	EnvSlurmIndex = "SLURM_ARRAY_TASK_ID"
	// EnvSlurmMin is the lowest index of the array (--array=1-8 starts at 1).
	EnvSlurmMin = "SLURM_ARRAY_TASK_MIN"
	// EnvSlurmCount is the number of tasks in the array.
	EnvSlurmCount = "SLURM_ARRAY_TASK_COUNT"
	// EnvShards gives the shard count where the batch system does not:
	// Kubernetes does not put .spec.completions in the pod's environment,
	// so an Indexed Job sets STREAMKIT_SHARDS to the same number.
	EnvShards = "STREAMKIT_SHARDS"
)

// ErrShard reports a --shard value or shard environment that cannot be used.
var ErrShard = errors.New("abr: shard")

// ParseShard resolves a shard spec to shard i of n (0 ≤ i < n) for
// WithShard. spec is "i/n"; "auto/n" takes i from the batch system's
// environment; "auto" takes n from it too. getenv is os.Getenv (a map's
// lookup in tests).
//
// "auto" reads the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed
// Job) or else SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (a Slurm job
// array; arrays may start at 1), and the count from STREAMKIT_SHARDS or
// else SLURM_ARRAY_TASK_COUNT. An array with gaps (--array=0,2,5) or a
// step (--array=0-8:2) has indices that are not 0 … n−1: ParseShard
// rejects an index out of range rather than skipping traces, so such an
// array needs "auto/n" with n above its highest index, or STREAMKIT_SHARDS.
// Every shard's table, merged (MergeTables, `streamkit abr merge`), is the
// unsharded table, whichever machine ran which shard.
func ParseShard(spec string, getenv func(string) string) (i, n int, err error) {
	idx, cnt, ok := strings.Cut(strings.TrimSpace(spec), "/")
	auto := idx == "auto"
	if !ok && !auto {
		return 0, 0, fmt.Errorf("%w %q: want i/n, auto/n or auto", ErrShard, spec)
	}
	if auto {
		src := EnvK8sIndex
		v := getenv(src)
		min := 0
		if v == "" {
			src = EnvSlurmIndex
			v = getenv(src)
			if m := getenv(EnvSlurmMin); v != "" && m != "" {
				if min, err = strconv.Atoi(m); err != nil {
					return 0, 0, fmt.Errorf("%w auto: %s=%q is not an integer", ErrShard, EnvSlurmMin, m)
				}
			}
		}
		if v == "" {
			return 0, 0, fmt.Errorf("%w auto: neither %s (Kubernetes Indexed Job) nor %s (Slurm job array) is set", ErrShard, EnvK8sIndex, EnvSlurmIndex)
		}
		if i, err = strconv.Atoi(v); err != nil {
			return 0, 0, fmt.Errorf("%w auto: %s=%q is not an integer", ErrShard, src, v)
		}
		i -= min
	} else if i, err = strconv.Atoi(idx); err != nil {
		return 0, 0, fmt.Errorf("%w %q: the index %q is not an integer", ErrShard, spec, idx)
	}
	if ok {
		if n, err = strconv.Atoi(cnt); err != nil || n < 1 {
			return 0, 0, fmt.Errorf("%w %q: the count %q is not a positive integer", ErrShard, spec, cnt)
		}
	} else {
		src := EnvShards
		v := getenv(src)
		if v == "" {
			src = EnvSlurmCount
			v = getenv(src)
		}
		if v == "" {
			return 0, 0, fmt.Errorf("%w auto: no shard count: set %s (Kubernetes: to the Job's completions) or use --shard auto/N", ErrShard, EnvShards)
		}
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			return 0, 0, fmt.Errorf("%w auto: %s=%q is not a positive integer", ErrShard, src, v)
		}
	}
	if i < 0 || i >= n {
		return 0, 0, fmt.Errorf("%w %q: index %d out of range 0..%d", ErrShard, spec, i, n-1)
	}
	return i, n, nil
}
