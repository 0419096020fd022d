// An independent check of Townsquare's public ledger with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog (Debian's golang-golang-x-mod-dev), over HTTP only: no Townsquare code. It reads the
// C2SP tlog-tiles endpoints and the public checkpoint route, verifies the signed notes with the
// city's verifier key, and checks inclusion and consistency proofs built from the tiles.
//
// usage: tlog-interop <tlog prefix URL> <checkpoints URL> <verifier key> <origin> <old size> <records file>
// The records file has one line per record: "<leaf index> <base64 leaf preimage (the envelope)>".
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// openCheckpoint verifies a signed note with the verifier key and parses the tlog-checkpoint body.
func openCheckpoint(text []byte, verifiers note.Verifiers, origin string) (tlog.Tree, error) {
	n, err := note.Open(text, verifiers)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != origin {
		return tlog.Tree{}, fmt.Errorf("not a checkpoint of %s: %q", origin, n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return tlog.Tree{}, err
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], root)
	return tlog.Tree{N: size, Hash: h}, nil
}

// tileReader fetches tiles over HTTP. Go's paths carry the tile height ("tile/8/L/N"); C2SP
// tlog-tiles drops it ("tile/L/N"), with the same N and .p/W encoding.
type tileReader struct {
	prefix  string
	fetched int
}

func (r *tileReader) Height() int { return 8 }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		data, err := get(r.prefix + path)
		if err != nil {
			return nil, err
		}
		r.fetched++
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 7 {
		fail("usage: tlog-interop <tlog prefix URL> <checkpoints URL> <verifier key> <origin> <old size> <records file>")
	}
	prefix, checkpointsURL, vkey, origin := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	oldSize, err := strconv.ParseInt(os.Args[5], 10, 64)
	if err != nil {
		fail("old size: %v", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	verifiers := note.VerifierList(verifier)

	latestText, err := get(prefix + "checkpoint")
	if err != nil {
		fail("%v", err)
	}
	tree, err := openCheckpoint(latestText, verifiers, origin)
	if err != nil {
		fail("latest checkpoint: %v", err)
	}
	reader := &tileReader{prefix: prefix}
	hashes := tlog.TileHashReader(tree, reader)
	// The whole tree from the tiles: every tile on the way is checked against the signed root.
	th, err := tlog.TreeHash(tree.N, hashes)
	if err != nil || th != tree.Hash {
		fail("tree hash from the tiles: %v (%v, signed %v)", err, th, tree.Hash)
	}
	fmt.Printf("checkpoint size %d verified; tree hash recomputed from tiles\n", tree.N)

	// Inclusion: each record's leaf hash (SHA-256(0x00 || preimage)) is proven in the latest tree.
	f, err := os.Open(os.Args[6])
	if err != nil {
		fail("%v", err)
	}
	records := 0
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 2 {
			continue
		}
		index, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			fail("record index: %v", err)
		}
		data, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			fail("record data: %v", err)
		}
		proof, err := tlog.ProveRecord(tree.N, index, hashes)
		if err != nil {
			fail("ProveRecord(%d): %v", index, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(data)); err != nil {
			fail("CheckRecord(%d): %v", index, err)
		}
		records++
	}
	fmt.Printf("inclusion of %d record(s) verified\n", records)

	// Consistency: the older checkpoint (from the public JSON route) is a prefix of the latest tree.
	body, err := get(fmt.Sprintf("%s/%d", checkpointsURL, oldSize))
	if err != nil {
		fail("%v", err)
	}
	var old struct {
		SignedNote string `json:"signedNote"`
	}
	if err := json.Unmarshal(body, &old); err != nil {
		fail("old checkpoint: %v", err)
	}
	oldTree, err := openCheckpoint([]byte(old.SignedNote), verifiers, origin)
	if err != nil {
		fail("old checkpoint: %v", err)
	}
	if oldTree.N != oldSize {
		fail("old checkpoint size %d, asked %d", oldTree.N, oldSize)
	}
	// The old tree from its own (partial) tiles, then the proof that the latest extends it.
	oth, err := tlog.TreeHash(oldTree.N, tlog.TileHashReader(oldTree, reader))
	if err != nil || oth != oldTree.Hash {
		fail("old tree hash from the tiles: %v", err)
	}
	tproof, err := tlog.ProveTree(tree.N, oldTree.N, hashes)
	if err != nil {
		fail("ProveTree: %v", err)
	}
	if err := tlog.CheckTree(tproof, tree.N, tree.Hash, oldTree.N, oldTree.Hash); err != nil {
		fail("CheckTree: %v", err)
	}
	fmt.Printf("consistency %d -> %d verified\n", oldTree.N, tree.N)
	fmt.Printf("OK %d tiles fetched\n", reader.fetched)
}
