package registry

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// LockFile is the lock of published contracts, beside the manifests.
const LockFile = "contracts.lock"

// Digest is the SHA-256 of what a published version promises: its name,
// version, scope, annotations, semantics, invariants, error codes and both
// schemas with shared refs inlined (so editing a shared schema a version
// uses changes its digest too). Titles, summaries, examples, status and
// replacement may change; these may not.
func (v *Version) Digest() string {
	m := v.Manifest
	codes := make(map[string]string, len(m.Errors))
	for code, doc := range m.Errors {
		codes[code] = doc.Meaning
	}
	contract := struct {
		Name        string            `json:"name"`
		Version     string            `json:"version"`
		Scope       string            `json:"scope"`
		Annotations any               `json:"annotations"`
		Semantics   string            `json:"semantics"`
		Invariants  []string          `json:"invariants"`
		Errors      map[string]string `json:"errors"`
		Input       json.RawMessage   `json:"input_schema"`
		Output      json.RawMessage   `json:"output_schema"`
	}{m.Name, m.Version, string(m.Scope), m.Annotations, m.Semantics, m.Invariants, codes, v.InputJSON, v.OutputJSON}
	b, _ := json.Marshal(contract) // maps marshal with sorted keys: canonical
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Lock maps name@version to its recorded digest.
type Lock map[string]string

// ReadLock reads the lock file from fsys; a missing file is an empty lock.
func ReadLock(fsys fs.FS) (Lock, error) {
	data, err := fs.ReadFile(fsys, LockFile)
	if err != nil {
		if errorsIsNotExist(err) {
			return Lock{}, nil
		}
		return nil, err
	}
	lock := Lock{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ref, digest, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(digest, "sha256:") {
			return nil, fmt.Errorf("%s line %d: want \"name@version sha256:<hex>\"", LockFile, n)
		}
		lock[ref] = digest
	}
	return lock, sc.Err()
}

// CheckLock compares every version with the lock. A version whose digest
// differs, and a locked version that no longer exists, are problems: a
// published contract never changes and is never deleted. Versions missing
// from the lock are returned as new, to be recorded.
func (r *Registry) CheckLock(lock Lock) (newVersions []*Version, problems Problems) {
	seen := map[string]bool{}
	for _, v := range r.all {
		ref := v.Manifest.Ref()
		seen[ref] = true
		want, ok := lock[ref]
		switch {
		case !ok:
			newVersions = append(newVersions, v)
		case want != v.Digest():
			problems = append(problems, Problem{File: v.File, Message: fmt.Sprintf(
				"%s is published and its contract changed (schemas, semantics, invariants, errors, scope or annotations; digest %s, locked %s): publish a new version instead of editing this one",
				ref, v.Digest(), want)})
		}
	}
	refs := make([]string, 0, len(lock))
	for ref := range lock {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		if !seen[ref] {
			problems = append(problems, Problem{File: "capabilities/" + LockFile, Message: fmt.Sprintf(
				"%s is published but its manifest is gone: a published version is never deleted; retire it (status: retired, replacement: ...)", ref)})
		}
	}
	return newVersions, problems
}

// LockHeader opens a lock file.
const LockHeader = `# The contract of every published capability version, as a digest.
# A published version never changes: to change a contract, publish a new version.
# New versions are recorded with: go test ./internal/registry -run TestContractsLock -update-lock
`
