// Package bench holds the figures p2pa publishes; run: go test ./bench -bench . -benchmem
package bench
