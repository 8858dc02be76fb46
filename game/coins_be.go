//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package game

import "p2pa/internal/xxh64"

// On big-endian (or unlisted) machines Coin's memory is not the byte form, so the coins
// are encoded one record at a time, to the same bytes coins_le.go copies.

func putCoins(dst []byte, coins []Coin) {
	for i := range coins {
		putCoin(dst[i*coinSize:(i+1)*coinSize], &coins[i])
	}
}

func getCoins(coins []Coin, src []byte) {
	for i := range coins {
		getCoin(&coins[i], src[i*coinSize:(i+1)*coinSize])
	}
}

// hashCoins streams the records through d in small stack batches, so it does not allocate.
func hashCoins(d *xxh64.Digest, coins []Coin) {
	const batch = 64
	var buf [batch * coinSize]byte
	for len(coins) > 0 {
		k := min(len(coins), batch)
		putCoins(buf[:k*coinSize], coins[:k])
		d.Write(buf[:k*coinSize])
		coins = coins[k:]
	}
}
