package rollback

import "fmt"

// DefaultCheckDistance is how many frames a sync test re-simulates.
const DefaultCheckDistance = 2

// SyncTestConfig describes a sync test: every player is local, and every
// frame the session loads the state CheckDistance frames back, advances
// again to the present and compares checksums. A deterministic game always
// gets the same checksums; a game that reads time, iterates maps, keeps
// state outside Save, or uses a global random source does not.
type SyncTestConfig[I comparable] struct {
	// Players is the number of players, all fed through AddLocalInput.
	Players int
	// CheckDistance is how many frames each check re-simulates (default 2,
	// at most 64).
	CheckDistance int
	// Recorder receives every frame and every ChecksumInterval-th checksum
	// (default 30), as in a peer-to-peer session.
	Recorder         Recorder[I]
	ChecksumInterval int
}

// SyncTest runs a game alone, checking it for determinism every frame.
type SyncTest[I comparable] struct {
	cfg       SyncTestConfig[I]
	game      Game[I]
	frame     Frame
	states    stateRing
	first     []uint64 // checksum of each state the first time it was reached
	firstAt   []Frame
	inputs    [][]PlayerInput[I] // ring of inputs per frame
	staged    []I
	stagedSet []bool
	err       error
}

// NewSyncTest starts a sync test of game.
func NewSyncTest[I comparable](cfg SyncTestConfig[I], game Game[I]) (*SyncTest[I], error) {
	if cfg.Players <= 0 || cfg.Players > MaxPlayers {
		return nil, fmt.Errorf("%w: %d players", ErrInvalidConfig, cfg.Players)
	}
	if cfg.CheckDistance < 0 || cfg.CheckDistance > 64 || cfg.ChecksumInterval < 0 {
		return nil, fmt.Errorf("%w: check distance %d", ErrInvalidConfig, cfg.CheckDistance)
	}
	if game == nil {
		return nil, fmt.Errorf("%w: nil game", ErrInvalidConfig)
	}
	if cfg.CheckDistance == 0 {
		cfg.CheckDistance = DefaultCheckDistance
	}
	if cfg.ChecksumInterval == 0 {
		cfg.ChecksumInterval = DefaultChecksumInterval
	}
	n := ceilPow2(cfg.CheckDistance + 2)
	st := &SyncTest[I]{
		cfg:       cfg,
		game:      game,
		states:    newStateRing(n),
		first:     make([]uint64, n),
		firstAt:   make([]Frame, n),
		inputs:    make([][]PlayerInput[I], n),
		staged:    make([]I, cfg.Players),
		stagedSet: make([]bool, cfg.Players),
	}
	for i := range st.inputs {
		st.inputs[i] = make([]PlayerInput[I], cfg.Players)
		st.firstAt[i] = NoFrame
	}
	return st, nil
}

// Frame returns the frame the next AdvanceFrame advances.
func (st *SyncTest[I]) Frame() Frame { return st.frame }

// AddLocalInput sets player p's input for the next frame.
func (st *SyncTest[I]) AddLocalInput(p Player, in I) error {
	if p < 0 || p >= st.cfg.Players {
		return fmt.Errorf("%w: player %d", ErrNotLocalPlayer, p)
	}
	st.staged[p], st.stagedSet[p] = in, true
	return nil
}

// AdvanceFrame advances one frame, then re-simulates the last
// CheckDistance frames and compares. The first difference is returned as a
// *NondeterminismError naming the first frame whose state differed; the
// session then refuses to go on.
func (st *SyncTest[I]) AdvanceFrame() error {
	if st.err != nil {
		return st.err
	}
	for p := range st.stagedSet {
		if !st.stagedSet[p] {
			return ErrMissingLocalInput
		}
	}
	mask := st.states.mask
	f := st.frame
	in := st.inputs[int(f)&mask]
	for p := range in {
		in[p] = PlayerInput[I]{Input: st.staged[p], Status: Confirmed}
	}
	clear(st.stagedSet)
	// The state at f is saved (its first checksum was taken when f was
	// first reached); advance, and take the first checksum of f+1.
	if err := st.save(f); err != nil {
		return err
	}
	if r := st.cfg.Recorder; r != nil {
		if f > 0 && int(f)%st.cfg.ChecksumInterval == 0 {
			r.RecordChecksum(f, st.first[int(f)&mask])
		}
		r.RecordFrame(f, in)
	}
	st.game.Advance(in)
	st.frame++
	if err := st.save(st.frame); err != nil {
		return err
	}

	// Load the state CheckDistance frames back and run forward again,
	// comparing every state reached with its first checksum.
	from := max(0, st.frame-Frame(st.cfg.CheckDistance))
	state, _ := st.states.get(from)
	if err := st.game.Load(state); err != nil {
		st.err = fmt.Errorf("rollback: sync test: loading the state of frame %d: %w", from, err)
		return st.err
	}
	for g := from; g < st.frame; g++ {
		st.game.Advance(st.inputs[int(g)&mask])
		if err := st.save(g + 1); err != nil {
			return err
		}
	}
	return nil
}

// save saves the state at f. The first time a frame is reached its
// checksum is remembered; every later time it is compared.
func (st *SyncTest[I]) save(f Frame) error {
	state := saveState(&st.states, st.game, f)
	sum := checksumSaved(st.game, state)
	i := int(f) & st.states.mask
	if st.firstAt[i] != f {
		st.firstAt[i], st.first[i] = f, sum
		return nil
	}
	if st.first[i] != sum {
		st.err = &NondeterminismError{Frame: f, First: st.first[i], Resimulated: sum}
		return st.err
	}
	return nil
}
