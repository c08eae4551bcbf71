package swarm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/streamkit-go/streamkit/abr"
)

// Axis is one swept scenario field: Field (a JSON path, as Set takes it)
// takes each of Values.
type Axis struct {
	Field  string
	Values []string
}

// ParseAxis parses "audience.peers=1000,10000".
func ParseAxis(s string) (Axis, error) {
	f, v, ok := strings.Cut(s, "=")
	if !ok || f == "" || v == "" {
		return Axis{}, fmt.Errorf("%w: grid %q: want field=v1,v2,…", ErrScenario, s)
	}
	return Axis{Field: f, Values: strings.Split(v, ",")}, nil
}

// SweepColumns are the columns of Sweep's table: the scenario's name, the
// grid point, then SummaryColumns.
func SweepColumns() []string { return append([]string{"scenario", "point"}, SummaryColumns...) }

// Sweep runs the scenario at every point of the grid (the product of the
// axes) and returns one row per point. It runs on abr's sweep machinery
// (abr.SweepRows): abr.WithWorkers runs points in parallel, abr.WithShard
// runs point k on shard k mod n, and `streamkit swarm merge` (abr's
// MergeTables) joins the shards; the table is the same for any number of
// workers or shards, since every point is one deterministic Run.
func Sweep(ctx context.Context, base *Scenario, grid []Axis, opts ...abr.SweepOption) (*abr.Table, error) {
	raw, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	points := []string{""}
	for _, ax := range grid {
		var next []string
		for _, p := range points {
			for _, v := range ax.Values {
				kv := ax.Field + "=" + strings.TrimSpace(v)
				if p != "" {
					kv = p + " " + kv
				}
				next = append(next, kv)
			}
		}
		points = next
	}
	// every point must parse before anything runs
	for _, pt := range points {
		if _, err := pointScenario(raw, pt); err != nil {
			return nil, err
		}
	}
	rows, err := abr.SweepRows(ctx, points, 2, func(pt string) ([][]string, error) {
		sc, err := pointScenario(raw, pt)
		if err != nil {
			return nil, err
		}
		r, err := Run(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("point %q: %w", pt, err)
		}
		return [][]string{append([]string{base.Name, pt}, r.Summary()...)}, nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &abr.Table{Columns: SweepColumns(), KeyCols: 2, Rows: rows}, nil
}

func pointScenario(raw []byte, pt string) (*Scenario, error) {
	sc := &Scenario{}
	if err := json.Unmarshal(raw, sc); err != nil {
		return nil, err
	}
	for _, kv := range strings.Fields(pt) {
		f, v, _ := strings.Cut(kv, "=")
		if err := sc.Set(f, v); err != nil {
			return nil, err
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("point %q: %w", pt, err)
	}
	return sc, nil
}
