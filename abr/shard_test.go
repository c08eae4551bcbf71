package abr

import (
	"errors"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		spec string
		env  map[string]string
		i, n int
		bad  bool
	}{
		{spec: "2/4", i: 2, n: 4},
		{spec: "0/1", i: 0, n: 1},
		{spec: "4/4", bad: true},
		{spec: "-1/4", bad: true},
		{spec: "1/0", bad: true},
		{spec: "x/2", bad: true},
		{spec: "3", bad: true},
		{spec: "auto/4", env: map[string]string{EnvK8sIndex: "3"}, i: 3, n: 4},
		{spec: "auto/4", env: map[string]string{EnvK8sIndex: "4"}, bad: true},
		{spec: "auto", env: map[string]string{EnvK8sIndex: "1", EnvShards: "3"}, i: 1, n: 3},
		{spec: "auto", env: map[string]string{EnvK8sIndex: "1"}, bad: true}, // Kubernetes gives no count
		{spec: "auto", env: map[string]string{EnvSlurmIndex: "2", EnvSlurmCount: "5"}, i: 2, n: 5},
		// --array=1-5: ids 1..5 are shards 0..4
		{spec: "auto", env: map[string]string{EnvSlurmIndex: "5", EnvSlurmMin: "1", EnvSlurmCount: "5"}, i: 4, n: 5},
		{spec: "auto", env: map[string]string{EnvSlurmIndex: "1", EnvSlurmMin: "1", EnvSlurmCount: "5"}, i: 0, n: 5},
		// STREAMKIT_SHARDS wins over the array's count; the Kubernetes index over Slurm's
		{spec: "auto", env: map[string]string{EnvSlurmIndex: "7", EnvSlurmCount: "2", EnvShards: "8"}, i: 7, n: 8},
		{spec: "auto", env: map[string]string{EnvK8sIndex: "0", EnvSlurmIndex: "7", EnvShards: "8"}, i: 0, n: 8},
		{spec: "auto", env: map[string]string{EnvSlurmIndex: "x", EnvSlurmCount: "2"}, bad: true},
		{spec: "auto", env: map[string]string{EnvShards: "2"}, bad: true}, // no index
		{spec: "auto", env: map[string]string{EnvK8sIndex: "0", EnvShards: "0"}, bad: true},
	} {
		i, n, err := ParseShard(c.spec, func(k string) string { return c.env[k] })
		if c.bad {
			if !errors.Is(err, ErrShard) {
				t.Errorf("%q %v: err = %v, want ErrShard", c.spec, c.env, err)
			}
			continue
		}
		if err != nil || i != c.i || n != c.n {
			t.Errorf("%q %v: %d/%d %v, want %d/%d", c.spec, c.env, i, n, err, c.i, c.n)
		}
	}
}
