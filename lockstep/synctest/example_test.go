package synctest_test

import (
	"encoding/binary"
	"errors"
	"fmt"

	"p2pa/lockstep"
	"p2pa/lockstep/synctest"
)

// counter is a minimal deterministic game: it adds up every player's input byte.
type counter struct{ total uint64 }

func (c *counter) AdvanceFrame(inputs []byte) {
	for _, b := range inputs {
		c.total = c.total*3 + uint64(b)
	}
}

func (c *counter) SaveState(dst []byte) []byte {
	return binary.LittleEndian.AppendUint64(dst, c.total)
}

func (c *counter) LoadState(b []byte) error {
	if len(b) != 8 {
		return errors.New("bad state")
	}
	c.total = binary.LittleEndian.Uint64(b)
	return nil
}

// A Test rolls back and re-simulates every frame; a deterministic game passes.
func ExampleTest() {
	test, err := synctest.New(lockstep.Config{Players: 2, InputSize: 1}, 4)
	if err != nil {
		panic(err)
	}
	g := &counter{}
	for f := range 100 {
		test.AddLocalInput(0, []byte{byte(f)})
		test.AddLocalInput(1, []byte{byte(f * 7)})
		reqs, err := test.AdvanceFrame()
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := lockstep.Apply(g, reqs); err != nil {
			panic(err)
		}
	}
	fmt.Println("frame", test.Frame(), "rollbacks", test.Rollbacks(), "verify", test.Verify())
	// Output: frame 100 rollbacks 96 verify <nil>
}
