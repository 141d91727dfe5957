// Package replay records rollback sessions to a file and plays them back.
//
// A Writer is a rollback.Recorder: set it as Config.Recorder and it writes
// every confirmed frame's inputs (with their status, confirmed or
// disconnected) and the checksums peers compare, to any io.Writer. Play
// advances a fresh game through a recording and checks that it reproduces
// every recorded checksum, reporting the first frame that differs as a
// *MismatchError — a determinism test from a real match. A Reader iterates
// the frames, for tools that want the inputs themselves.
//
// # Format
//
// The format is versioned and specified in FORMAT.md next to this file
// (TestGolden keeps its example byte-exact). In short: a header (magic
// "LYNREPLY", version, players, input size, frame rate, up to 64 KiB of
// application metadata, CRC-32C), then blocks of up to BlockFrames frames,
// each with its first frame number, counts, payload length and CRC-32Cs of
// its header and payload, then an end record with the number of frames. In
// a block's payload, checksums come first, then each player's inputs as runs
// (length, status, encoded input), since inputs usually repeat for many
// frames. A typical two-player game with 2-byte inputs and a checksum every
// 30 frames takes about 1 byte per frame (BenchmarkWriterRecordFrame reports
// it).
//
// Every flipped byte is detected, and reported as a *CorruptError naming the
// first frame of the damaged block and its byte offset; no frame of a
// damaged block is ever returned. Every length is bounded (see FORMAT.md)
// before anything is allocated for it, so a hostile file cannot make a
// Reader allocate much more than its own size.
//
// The format is hand-written with encoding/binary rather than msgpack:
// inputs already have a fixed-size encoding (rollback.InputCodec), the
// layout is a handful of fixed-width fields that are simplest to specify,
// bound and checksum byte for byte, the writer appends into reused buffers
// without reflection or allocation, and the rollback tree stays free of
// msgpack, which the engine's boundary keeps in netcode.
package replay
