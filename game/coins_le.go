//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package game

import (
	"unsafe"

	"p2pa/internal/xxh64"
)

// On little-endian machines a []Coin already is the coin records of the byte form: four
// little-endian int32s, the alive byte (a Go bool is 0 or 1) and three zero bytes. The
// constants below fail to compile if Coin's layout ever stops matching that (a uintptr
// constant cannot be negative, so each pair of differences pins one equality).
const (
	_ = uintptr(coinSize) - unsafe.Sizeof(Coin{})
	_ = unsafe.Sizeof(Coin{}) - uintptr(coinSize)
	_ = unsafe.Offsetof(Coin{}.Alive) - 16
	_ = 16 - unsafe.Offsetof(Coin{}.Alive)
	_ = unsafe.Offsetof(Coin{}.VY) - 12
	_ = 12 - unsafe.Offsetof(Coin{}.VY)
)

// coinMemory is the bytes of coins, in place.
func coinMemory(coins []Coin) []byte {
	if len(coins) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&coins[0])), len(coins)*coinSize)
}

// putCoins writes the records of coins into dst (len(coins)*coinSize bytes): one copy.
func putCoins(dst []byte, coins []Coin) { copy(dst, coinMemory(coins)) }

// getCoins fills coins from records LoadState has validated (every alive byte 0 or 1,
// every padding byte 0, so each Coin is a valid value): one copy.
func getCoins(coins []Coin, src []byte) { copy(coinMemory(coins), src) }

// hashCoins feeds the records of coins to d without building them.
func hashCoins(d *xxh64.Digest, coins []Coin) { d.Write(coinMemory(coins)) }
