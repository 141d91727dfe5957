package view

import (
	"image/color"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
)

// Discs and rings are drawn with a small shader rather than the vector
// package: each is one quad whose pixels take their coverage from their
// distance to the centre, so the edge is antialiased at the cost of one
// pass over the quad. vector's antialiased fills render every path several
// times into a stencil buffer; under software OpenGL (Xvfb, CI, machines
// without a GPU) three arena-sized circles held the demo to about 5 frames
// a second. Consecutive circles share the shader and batch into one draw.

// circleShaderSource gets, per vertex, the offset from the centre (custom.xy),
// the radius (custom.z) and half the ring's width (custom.w, 0 for a disc),
// all in pixels, and the premultiplied colour.
const circleShaderSource = `//kage:unit pixels

package main

func Fragment(dstPos vec4, srcPos vec2, color vec4, custom vec4) vec4 {
	sd := length(custom.xy) - custom.z
	if custom.w > 0 {
		sd = abs(sd) - custom.w
	}
	return color * clamp(0.5-sd, 0, 1)
}
`

var circleShader = sync.OnceValue(func() *ebiten.Shader {
	s, err := ebiten.NewShader([]byte(circleShaderSource))
	if err != nil {
		// The source is compiled in: an error is a broken build.
		panic("view: compiling the circle shader: " + err.Error())
	}
	return s
})

var circleIndices = []uint16{0, 1, 2, 1, 2, 3}

// fillCircle draws an antialiased disc of radius r centred at cx, cy.
func fillCircle(dst *ebiten.Image, cx, cy, r float32, clr color.Color) {
	drawCircle(dst, cx, cy, r, 0, clr)
}

// strokeCircle draws an antialiased circle's outline, width wide. The
// trailing bool mirrors vector.StrokeCircle's antialias argument (always
// true here).
func strokeCircle(dst *ebiten.Image, cx, cy, r, width float32, clr color.Color, _ bool) {
	if width <= 0 {
		return
	}
	drawCircle(dst, cx, cy, r, width/2, clr)
}

func drawCircle(dst *ebiten.Image, cx, cy, r, halfWidth float32, clr color.Color) {
	if r <= 0 || r != r || cx != cx || cy != cy {
		return
	}
	reach := r + halfWidth + 1   // one more pixel for the antialiased edge
	cr, cg, cb, ca := clr.RGBA() // premultiplied, 16 bits
	var vs [4]ebiten.Vertex
	for i, c := range [4][2]float32{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
		dx, dy := c[0]*reach, c[1]*reach
		vs[i] = ebiten.Vertex{
			DstX: cx + dx, DstY: cy + dy,
			ColorR: float32(cr) / 0xffff, ColorG: float32(cg) / 0xffff,
			ColorB: float32(cb) / 0xffff, ColorA: float32(ca) / 0xffff,
			Custom0: dx, Custom1: dy, Custom2: r, Custom3: halfWidth,
		}
	}
	dst.DrawTrianglesShader(vs[:], circleIndices, circleShader(), nil)
}
