package replay

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/lynnet/lyn/rollback"
)

// Format constants. FORMAT.md (and the package documentation) describe the
// layout they belong to.
const (
	// Magic starts every replay file.
	Magic = "LYNREPLY"
	// Version is the format version this package writes and reads.
	Version = 1
	// MaxMetadata bounds Header.Metadata: 64 KiB.
	MaxMetadata = 64 << 10
	// MaxBlockBytes bounds the payload of one block record: 1 MiB. Readers
	// reject larger blocks before reading them.
	MaxBlockBytes = 1 << 20
	// MaxBlockFrames bounds the frames of one block. Readers reject larger
	// blocks, which bounds how much replaying a few bytes can cost.
	MaxBlockFrames = 4096
	// BlockFrames is how many frames a Writer puts in a block (fewer when
	// Players × input size is so large that the block would exceed
	// MaxBlockBytes, and in the last block).
	BlockFrames = 256
	// MaxFrameRate bounds Header.FrameRate (as rollback.Config does).
	MaxFrameRate = 1000
)

const (
	headerFixed   = 8 + 2 + 1 + 1 + 2 + 4 // magic, version, players, input size, frame rate, metadata length
	kindBlock     = 'B'
	kindEnd       = 'E'
	blockHeadSize = 1 + 4 + 2 + 2 + 4 + 4 + 4 // kind, first, frames, sums, payload len, payload crc, head crc
	endSize       = 1 + 4 + 4                 // kind, frames, crc
	sumMaxSize    = binary.MaxVarintLen32 + 8 // offset uvarint (≤ 3 bytes in practice), checksum
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Header describes a replay. NewWriter writes it first; Reader.Header
// returns it.
type Header struct {
	// Version is the format version. NewWriter accepts 0 or Version and
	// always writes Version.
	Version int
	// Players is the number of players, 1 to rollback.MaxPlayers. Required.
	Players int
	// InputSize is the codec's Size, 1 to 255. NewWriter fills it in from
	// the codec (a nonzero value must agree); NewReader checks it against
	// its codec.
	InputSize int
	// FrameRate is the game's nominal frames per second, 1 to MaxFrameRate
	// (default rollback.DefaultFrameRate).
	FrameRate int
	// Metadata is an opaque blob for the application (game name and
	// version, level, player names…), at most MaxMetadata bytes. The
	// replay package never interprets it.
	Metadata []byte
}

// validInputStatus reports whether a status may appear in a replay: only
// confirmed inputs and disconnected players are ever recorded.
func validInputStatus(s rollback.InputStatus) bool {
	return s == rollback.Confirmed || s == rollback.Disconnected
}
