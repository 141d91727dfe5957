//go:build !js

package main

import (
	"cmp"
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is distinguishable on white, in print and for most colour-blind
// readers (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255},
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	return p
}

func addLine(p *plot.Plot, i int, name string, pts plotter.XYs, dashed bool) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	c := palette[i%len(palette)]
	l.Color, s.Color = c, c
	l.Width = vg.Points(1.5)
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(2.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// writePlots draws the report's PNGs into dir and returns their file
// names, by what they show.
func writePlots(rep *Report, dir string) (map[string]string, error) {
	out := map[string]string{}
	save := func(key, name string, p *plot.Plot) error {
		if err := p.Save(7*vg.Inch, 4.2*vg.Inch, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		out[key] = name
		return nil
	}
	// Latency CDFs: one per mode, at the smallest mesh measured.
	for _, mode := range []string{"paced60", "b2b"} {
		var rows []LatencyRow
		for _, r := range rep.Latency {
			if r.Mode == mode && r.Peers == 2 && len(r.rttSamples) > 0 {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		title := "Round trip, 2 peers, 32-byte inputs at 60 Hz"
		if mode == "b2b" {
			title = "Round trip, 2 peers, back to back"
		}
		p := newPlot(title, "round trip (µs, log scale)", "fraction of round trips ≤ x")
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Legend.Top, p.Legend.Left = false, false
		p.Y.Min, p.Y.Max = 0, 1
		// Cut the axis a little past the largest p99.9: a single stall of
		// hundreds of ms would squeeze every curve into the left third.
		cut := 0.0
		for _, r := range rows {
			cut = max(cut, 1.5*r.RTT.P999)
		}
		p.X.Label.Text = fmt.Sprintf("round trip (µs, log scale, drawn up to %.0f)", cut)
		for i, r := range rows {
			s := slices.Clone(r.rttSamples)
			slices.Sort(s)
			step := max(1, len(s)/400)
			var pts plotter.XYs
			for k := 0; k < len(s) && s[k] <= cut; k += step {
				pts = append(pts, plotter.XY{X: max(s[k], 1), Y: float64(k+1) / float64(len(s))})
			}
			if last := s[len(s)-1]; last <= cut {
				pts = append(pts, plotter.XY{X: max(last, 1), Y: 1})
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return out, err
			}
			l.Color, l.Width = palette[i%len(palette)], vg.Points(1.8)
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s (p50 %.0f, p99 %.0f µs)", r.Path, r.RTT.P50, r.RTT.P99), l)
		}
		if err := save("latency-"+mode, "latency-cdf-"+mode+".png", p); err != nil {
			return out, err
		}
	}
	// Rollback depth vs RTT, one line per loss rate, per player count.
	for _, players := range []int{2, 4} {
		byLoss := map[float64]plotter.XYs{}
		var losses []float64
		for _, r := range rep.Impairment {
			if r.Players != players || r.Depth.N == 0 && r.Err != "" {
				continue
			}
			if _, ok := byLoss[r.LossPct]; !ok {
				losses = append(losses, r.LossPct)
			}
			byLoss[r.LossPct] = append(byLoss[r.LossPct], plotter.XY{X: float64(r.RTTms), Y: r.Depth.P99})
		}
		if len(losses) == 0 {
			continue
		}
		slices.Sort(losses)
		p := newPlot(fmt.Sprintf("Rollback depth p99, %d players, vs RTT and loss", players), "round-trip time (ms)", "rollback depth p99 (frames)")
		p.Legend.Left = true
		for i, loss := range losses {
			if err := addLine(p, i, fmt.Sprintf("%g %% loss", loss), byLoss[loss], false); err != nil {
				return out, err
			}
		}
		if err := save(fmt.Sprintf("impair-%d", players), fmt.Sprintf("rollback-depth-%dp.png", players), p); err != nil {
			return out, err
		}
	}
	// Bandwidth vs players.
	series := map[string]plotter.XYs{}
	var names []string
	for _, r := range rep.Bandwidth {
		if r.Err != "" || r.Path == "pion-32B" {
			continue
		}
		k := r.Path + ", " + r.Inputs + " inputs"
		if _, ok := series[k]; !ok {
			names = append(names, k)
		}
		series[k] = append(series[k], plotter.XY{X: float64(r.Players), Y: r.UpKiBps})
	}
	if len(names) > 0 {
		p := newPlot("Upload per peer at 60 Hz, all headers counted", "players", "KiB/s sent per peer (to all peers)")
		p.Legend.Left = true
		for i, n := range names {
			if err := addLine(p, i, n, series[n], false); err != nil {
				return out, err
			}
		}
		sc, err := plotter.NewScatter(plotter.XYs{{X: 2, Y: 4.73}})
		if err != nil {
			return out, err
		}
		sc.Shape, sc.Radius, sc.Color = draw.CrossGlyph{}, vg.Points(6), palette[len(palette)-1]
		p.Add(sc)
		p.Legend.Add("fortress-rollback, 2 players, LAN: 4.73 KiB/s", sc)
		if err := save("bandwidth", "bandwidth.png", p); err != nil {
			return out, err
		}
	}
	// Engine cost vs depth.
	byPlayers := map[string]plotter.XYs{}
	var ps []string
	for _, r := range rep.Engine {
		if r.Err != "" {
			continue
		}
		k := fmt.Sprintf("%s game, %d players", cmp.Or(r.Game, "reference"), r.Players)
		if _, ok := byPlayers[k]; !ok {
			ps = append(ps, k)
		}
		byPlayers[k] = append(byPlayers[k], plotter.XY{X: float64(r.Depth), Y: r.NsPerFrame / 1e3})
	}
	if len(ps) > 0 {
		p := newPlot("Engine CPU per frame per peer vs rollback depth", "rollback depth (frames re-simulated every frame)", "CPU µs per frame per peer")
		p.Legend.Left = true
		for i, n := range ps {
			if err := addLine(p, i, n, byPlayers[n], strings.HasPrefix(n, "demo")); err != nil {
				return out, err
			}
		}
		if err := save("engine", "engine-cost.png", p); err != nil {
			return out, err
		}
	}
	return out, nil
}
