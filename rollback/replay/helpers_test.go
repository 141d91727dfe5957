package replay_test

import (
	"encoding/binary"
	"hash/crc32"
	"runtime"
)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

// forgeBlock builds a block record with valid CRCs around any content.
func forgeBlock(first uint32, frames, sums uint16, payload []byte) []byte {
	b := []byte{'B'}
	b = binary.LittleEndian.AppendUint32(b, first)
	b = binary.LittleEndian.AppendUint16(b, frames)
	b = binary.LittleEndian.AppendUint16(b, sums)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32c(payload))
	b = binary.LittleEndian.AppendUint32(b, crc32c(b))
	return append(b, payload...)
}

func forgeEnd(frames uint32) []byte {
	b := binary.LittleEndian.AppendUint32([]byte{'E'}, frames)
	return binary.LittleEndian.AppendUint32(b, crc32c(b))
}
