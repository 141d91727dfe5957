package sim

// Bot returns the input a computer player gives for player's disc on the
// next frame. It reads only g (never changes it) and draws its small
// randomness from the frame number and the state's generator, so the same
// state always gives the same input: a bot peer stays deterministic, and a
// bot's input can even be recomputed during a rollback.
//
// It keeps away from the edge, circles to the inner side of the nearest
// opponent and charges it outwards, dashing when close, lined up and safe.
// It returns 0 for a player out of range or whose disc is not playing.
func Bot(g *Game, player int) Input {
	if player < 0 || player >= int(g.players) || g.phase != PhasePlaying {
		return 0
	}
	me := &g.discs[player]
	if !me.alive() {
		return 0
	}
	const one = int64(One)
	x, y := int64(me.x), int64(me.y)
	vx, vy := int64(me.vx), int64(me.vy)
	r := int64(g.radius)

	// Where momentum alone takes the disc: friction 1/16 a frame adds up to
	// about 15 frames of the current velocity.
	px, py := x+vx*15, y+vy*15
	margin := 2*int64(DiscRadius) + r/8
	safe := r - margin
	if safe < 0 {
		safe = 0
	}
	if px*px+py*py > safe*safe {
		return steer(-px, -py) // back towards the centre
	}

	target := -1
	var best int64
	for p := range int(g.players) {
		o := &g.discs[p]
		if p == player || !o.alive() {
			continue
		}
		dx, dy := int64(o.x)-x, int64(o.y)-y
		if d2 := dx*dx + dy*dy; target < 0 || d2 < best {
			target, best = p, d2
		}
	}
	if target < 0 {
		return steer(-x, -y) // alone: hold the centre
	}
	o := &g.discs[target]
	tx, ty := int64(o.x), int64(o.y)
	dx, dy := tx-x, ty-y
	dist := isqrt(dx*dx + dy*dy)

	// Outward direction from the centre through the target.
	tr := isqrt(tx*tx + ty*ty)
	ux, uy := one, int64(0)
	if tr > 0 {
		ux, uy = tx*one/tr, ty*one/tr
	}
	// How far the bot is on the inner side of the target, along that
	// direction: positive means a charge pushes the target outwards.
	inner := -(dx*ux + dy*uy) / one

	// A little per-bot wobble, redrawn every 24 frames, so bots do not
	// mirror each other forever.
	h := uint64(g.frame/24)*0x9e3779b97f4a7c15 ^ uint64(player+1)*0xbf58476d1ce4e5b9 ^ g.rng
	wobble := splitmix64(&h)

	// A dashing opponent coming this way: sidestep it.
	if o.dash > 0 && dist < 90*one {
		ovx, ovy := int64(o.vx), int64(o.vy)
		if ovx*(-dx)+ovy*(-dy) > 0 {
			// Perpendicular to its path, on the side nearer the centre.
			sx, sy := -ovy, ovx
			if sx*x+sy*y > 0 {
				sx, sy = -sx, -sy
			}
			return steer(sx, sy)
		}
	}

	// Each bot's reach varies from window to window, so two bots do not
	// dash into each other on the same frame every time.
	reach := (60 + int64(wobble>>8&63)) * one

	var in Input
	if inner > int64(DiscRadius)/2 || dist < 3*int64(DiscRadius) {
		in = steer(dx, dy)
		if wobble&7 == 0 {
			in = steer(dx-dy/3, dy+dx/3) // sidestep now and then
		}
		// Dash when close and roughly lined up, if the dash stays on the
		// platform: it travels about 110 units.
		if me.cooldown == 0 && me.prev&Dash == 0 && dist < reach && wobble&48 != 0 {
			oct := octants[in]
			if oct >= 0 {
				ex, ey := unitAt(int(oct) * 8)
				ax, ay := x+ex*110, y+ey*110
				along := (dx*ex + dy*ey) / one
				if along*10 > dist*8 && ax*ax+ay*ay < safe*safe {
					in |= Dash
				}
			}
		}
		return in
	}
	// Circle round to the inner side: aim at a point between the target and
	// the centre.
	gx, gy := tx-ux*(3*int64(DiscRadius))/one, ty-uy*(3*int64(DiscRadius))/one
	if wobble&3 == 0 {
		gx, gy = gx-uy*int64(DiscRadius)/one, gy+ux*int64(DiscRadius)/one
	}
	return steer(gx-x, gy-y)
}

// steer returns the direction buttons closest to the vector (dx, dy), or 0
// for the zero vector.
func steer(dx, dy int64) Input {
	ax, ay := dx, dy
	if ax < 0 {
		ax = -ax
	}
	if ay < 0 {
		ay = -ay
	}
	var in Input
	// tan(67.5°) ≈ 2.414: within that of an axis, go straight.
	if ax*5 > ay*2 {
		if dx > 0 {
			in |= Right
		} else {
			in |= Left
		}
	}
	if ay*5 > ax*2 {
		if dy > 0 {
			in |= Down
		} else {
			in |= Up
		}
	}
	return in
}
