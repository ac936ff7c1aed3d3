package gateway

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"trueup.dev/platform/caller"
)

// An API key is "tu_<prefix>_<secret>": the prefix is 8 random base32
// characters, public (it names the key in `trueup partners list` and the logs
// and finds its record); the secret is 32 random bytes in base32. The keys
// file holds one KeyRecord per key, never the key itself.
const (
	keyTag       = "tu_"
	prefixLen    = 8
	secretBytes  = 32
	keyRecordTag = "{"
)

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// KeyRecord is one line of the keys file, a JSON object. SHA256 is the hex
// SHA-256 of the whole key; Expires and Revoked are zero when unset.
type KeyRecord struct {
	Partner string    `json:"partner"`
	Prefix  string    `json:"prefix"`
	SHA256  string    `json:"sha256"`
	Scopes  []string  `json:"scopes"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// NewKey returns a fresh random key and its prefix.
func NewKey() (key, prefix string, err error) {
	raw := make([]byte, 5+secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	prefix = strings.ToLower(keyEncoding.EncodeToString(raw[:5]))
	secret := strings.ToLower(keyEncoding.EncodeToString(raw[5:]))
	return keyTag + prefix + "_" + secret, prefix, nil
}

// KeyPrefix is the public prefix of a key in the "tu_<prefix>_<secret>" form.
func KeyPrefix(key string) (string, bool) {
	if len(key) < len(keyTag)+prefixLen+2 || !strings.HasPrefix(key, keyTag) || key[len(keyTag)+prefixLen] != '_' {
		return "", false
	}
	p := key[len(keyTag) : len(keyTag)+prefixLen]
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	return p, true
}

// ErrLegacyKeysFile is returned for a keys file in the old plain format.
var ErrLegacyKeysFile = errors.New("api keys file holds keys in the old plain format")

// ReadKeyRecords reads a keys file: one JSON KeyRecord per line; blank lines
// and lines starting with '#' are ignored. A file in the old plain format
// ("<partner-id> <key> <scopes>", which stores the keys themselves) is
// refused with ErrLegacyKeysFile: move it aside and create hashed keys with
// `trueup partners create` (the old keys cannot be found by prefix, so they
// are replaced, not migrated).
func ReadKeyRecords(path string) ([]KeyRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open api keys: %w", err)
	}
	var recs []KeyRecord
	prefixes := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, keyRecordTag) {
			return nil, fmt.Errorf("%w (%s line %d): it stores the keys themselves: move the file aside, then create each partner a new key with `trueup partners create --partner ID --scopes S --keys-file %s` and give it to the partner", ErrLegacyKeysFile, path, n, path)
		}
		var r KeyRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("api keys %s line %d: %w", path, n, err)
		}
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("api keys %s line %d: %w", path, n, err)
		}
		if prefixes[r.Prefix] {
			return nil, fmt.Errorf("api keys %s line %d: prefix %s listed twice", path, n, r.Prefix)
		}
		prefixes[r.Prefix] = true
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	return recs, nil
}

func (r KeyRecord) check() error {
	if err := caller.ValidateID(r.Partner); err != nil {
		return fmt.Errorf("partner id: %w", err)
	}
	if _, ok := KeyPrefix(keyTag + r.Prefix + "_x"); !ok || len(r.Prefix) != prefixLen {
		return fmt.Errorf("malformed prefix %q", r.Prefix)
	}
	if h, err := hex.DecodeString(r.SHA256); err != nil || len(h) != sha256.Size {
		return fmt.Errorf("key %s: sha256 is not 64 hex digits", r.Prefix)
	}
	if _, err := parseScopes(r.Scopes); err != nil {
		return fmt.Errorf("key %s: %w", r.Prefix, err)
	}
	return nil
}

// WriteKeyRecords replaces the keys file with recs, atomically (a temporary
// file renamed over it), mode 0600.
func WriteKeyRecords(path string, recs []KeyRecord) error {
	var buf bytes.Buffer
	buf.WriteString("# trueup API keys: one JSON record per line, managed with `trueup partners`; the keys themselves are never stored\n")
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return writeFileAtomic(path, buf.Bytes())
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// CreateKey adds a new key for partner to the keys file (created if missing)
// and returns the key, which is stored nowhere: show it once. ttl zero: no
// expiry.
func CreateKey(path, partner string, scopes []string, ttl time.Duration, now time.Time) (string, KeyRecord, error) {
	var recs []KeyRecord
	if _, err := os.Stat(path); err == nil {
		if recs, err = ReadKeyRecords(path); err != nil {
			return "", KeyRecord{}, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", KeyRecord{}, err
	}
	key, prefix, err := NewKey()
	if err != nil {
		return "", KeyRecord{}, err
	}
	sum := sha256.Sum256([]byte(key))
	rec := KeyRecord{Partner: partner, Prefix: prefix, SHA256: hex.EncodeToString(sum[:]), Scopes: scopes, Created: now.UTC().Truncate(time.Second)}
	if ttl > 0 {
		rec.Expires = rec.Created.Add(ttl)
	}
	if err := rec.check(); err != nil {
		return "", KeyRecord{}, err
	}
	for _, r := range recs {
		if r.Prefix == prefix {
			return "", KeyRecord{}, errors.New("generated a prefix already in use; try again")
		}
	}
	if err := WriteKeyRecords(path, append(recs, rec)); err != nil {
		return "", KeyRecord{}, err
	}
	return key, rec, nil
}

// RevokeKey marks the key with prefix revoked at now. Revoking a revoked key
// keeps its first revocation time.
func RevokeKey(path, prefix string, now time.Time) (KeyRecord, error) {
	recs, err := ReadKeyRecords(path)
	if err != nil {
		return KeyRecord{}, err
	}
	for i, r := range recs {
		if r.Prefix != prefix {
			continue
		}
		if r.Revoked.IsZero() {
			recs[i].Revoked = now.UTC().Truncate(time.Second)
			if err := WriteKeyRecords(path, recs); err != nil {
				return KeyRecord{}, err
			}
		}
		return recs[i], nil
	}
	return KeyRecord{}, fmt.Errorf("no key with prefix %q in %s", prefix, path)
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func statFile(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}
