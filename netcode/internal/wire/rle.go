package wire

// Input compression (PROTOCOL.md, "Input compression"):
//
//  1. raw: every input through the InputCodec, frame-major, stride = n*S
//     bytes per frame;
//  2. delta: each byte XORed with the byte one stride earlier (the same
//     player's input in the previous frame; the first frame is XORed with
//     zeros, i.e. left as it is);
//  3. tokens: a byte-level run-length code in which 0x00–0x7f is a literal
//     of (t+1) bytes that follow, 0x80–0xff a run of (t&0x7f)+1 zero bytes;
//     zeros after the last token are implicit.

// xorDelta turns raw bytes into deltas in place.
func xorDelta(b []byte, stride int) {
	for i := len(b) - 1; i >= stride; i-- {
		b[i] ^= b[i-stride]
	}
}

// unXor turns deltas back into raw bytes in place.
func unXor(b []byte, stride int) {
	for i := stride; i < len(b); i++ {
		b[i] ^= b[i-stride]
	}
}

// appendTokens appends the canonical token stream of d to dst: literals are
// maximal runs of non-zero bytes (absorbing a lone zero byte between two
// non-zero ones while the literal has room), zero runs become zero-run
// tokens, and trailing zeros are left out.
func appendTokens(dst, d []byte) []byte {
	end := len(d)
	for end > 0 && d[end-1] == 0 {
		end--
	}
	lit, litLen := -1, 0 // index in dst of the open literal's token byte
	for i := 0; i < end; {
		if d[i] != 0 {
			if lit < 0 || litLen == 128 {
				dst = append(dst, 0)
				lit, litLen = len(dst)-1, 0
			}
			dst = append(dst, d[i])
			litLen++
			dst[lit] = byte(litLen - 1)
			i++
			continue
		}
		j := i + 1
		for d[j] == 0 { // d[end-1] != 0 stops it
			j++
		}
		run := j - i
		if run == 1 && lit >= 0 && litLen < 128 {
			dst = append(dst, 0)
			litLen++
			dst[lit] = byte(litLen - 1)
			i = j
			continue
		}
		lit = -1
		for run > 0 {
			k := min(run, 128)
			dst = append(dst, 0x80|byte(k-1))
			run -= k
		}
		i = j
	}
	return dst
}

// expandTokens fills out (every byte) from a token stream. It fails if the
// tokens are truncated or describe more than len(out) bytes.
func expandTokens(out, tok []byte) bool {
	pos := 0
	for t := 0; t < len(tok); {
		c := tok[t]
		t++
		if c < 0x80 {
			n := int(c) + 1
			if n > len(tok)-t || n > len(out)-pos {
				return false
			}
			copy(out[pos:], tok[t:t+n])
			pos += n
			t += n
			continue
		}
		n := int(c&0x7f) + 1
		if n > len(out)-pos {
			return false
		}
		clear(out[pos : pos+n])
		pos += n
	}
	clear(out[pos:])
	return true
}
