package tracker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Errors of ParseRequest. A malformed message (not a JSON object, invalid
// UTF-8) closes the connection with a close code; a well-formed but
// invalid request is answered with a "failure reason", as
// bittorrent-tracker does, and the connection stays open.
var (
	ErrMalformed = errors.New("tracker: malformed message")
	ErrInvalid   = errors.New("tracker: invalid request")
)

// IDLen is the length of info hashes, peer ids and offer ids: 20 UTF-16
// code units. WebTorrent clients send them as "binary strings" (one
// character per byte, U+0000..U+00FF); the tracker treats them as opaque
// and sends them back exactly as received.
const IDLen = 20

// Request is one parsed client message.
type Request struct {
	// Action is "announce" or "scrape".
	Action string
	// InfoHash and PeerID identify the swarm and the sender (announce).
	InfoHash, PeerID string
	// Event is "started", "stopped", "completed", "paused" or "update"
	// (the default, for absent, "" and "empty"); anything else is kept
	// for the server to refuse.
	Event string
	// Complete is set when the client reported left = 0 (a seeder).
	Complete bool
	// Offers are WebRTC offers for other peers of the swarm.
	Offers []Offer
	// Answer, with ToPeerID and OfferID, answers an offer relayed
	// earlier.
	Answer   json.RawMessage
	ToPeerID string
	OfferID  string
	// InfoHashes are the swarms a scrape asks about (none: all).
	InfoHashes []string
}

// Offer is one SDP offer with its id, relayed as given.
type Offer struct {
	OfferID string          `json:"offer_id"`
	Offer   json.RawMessage `json:"offer"`
}

// MaxScrape bounds the info hashes of one scrape request.
const MaxScrape = 100

// ParseRequest parses a client message. It never panics and allocates
// in proportion to the message (which the connection's read limit
// bounds).
func ParseRequest(b []byte, maxOffers int) (*Request, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: not UTF-8 text", ErrMalformed)
	}
	var fields map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&fields); err != nil || fields == nil {
		return nil, fmt.Errorf("%w: not a JSON object (%v)", ErrMalformed, jsonErr(err))
	}
	if d.More() {
		return nil, fmt.Errorf("%w: data after the JSON object at byte %d", ErrMalformed, d.InputOffset())
	}
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	var action string
	if err := str(fields["action"], &action); err != nil {
		return nil, invalid("invalid action")
	}
	r := &Request{Action: action}
	switch action {
	case "announce":
		var err error
		if r.InfoHash, err = id(fields["info_hash"]); err != nil {
			return nil, invalid("invalid info_hash")
		}
		if r.PeerID, err = id(fields["peer_id"]); err != nil {
			return nil, invalid("invalid peer_id")
		}
		if raw, ok := fields["event"]; ok && !isNull(raw) {
			if err := str(raw, &r.Event); err != nil {
				return nil, invalid("invalid event")
			}
		}
		// An unknown event is the swarm's to refuse (bittorrent-tracker
		// answers it with the action and info hash, unlike parse errors).
		if r.Event == "" || r.Event == "empty" {
			r.Event = "update"
		}
		r.Complete = left(fields["left"]) == 0
		if raw, ok := fields["offers"]; ok && !isNull(raw) {
			if err := json.Unmarshal(raw, &r.Offers); err != nil {
				return nil, invalid("invalid offers")
			}
			if len(r.Offers) > maxOffers {
				return nil, invalid("%d offers, at most %d", len(r.Offers), maxOffers)
			}
			for i, o := range r.Offers {
				if !isObject(o.Offer) || utf16Len(o.OfferID) != IDLen {
					return nil, invalid("invalid offers[%d]", i)
				}
			}
		}
		if raw, ok := fields["answer"]; ok && truthy(raw) {
			if !isObject(raw) {
				return nil, invalid("invalid answer")
			}
			r.Answer = raw
			if r.ToPeerID, err = id(fields["to_peer_id"]); err != nil {
				return nil, invalid("invalid `to_peer_id` (required with `answer`)")
			}
			if r.OfferID, err = id(fields["offer_id"]); err != nil {
				return nil, invalid("invalid `offer_id` (required with `answer`)")
			}
		}
	case "scrape":
		raw, ok := fields["info_hash"]
		if !ok || isNull(raw) {
			break
		}
		if len(raw) > 0 && raw[0] == '[' {
			var list []json.RawMessage
			if err := json.Unmarshal(raw, &list); err != nil || len(list) > MaxScrape {
				return nil, invalid("invalid info_hash (a list of at most %d)", MaxScrape)
			}
			for _, e := range list {
				h, err := id(e)
				if err != nil {
					return nil, invalid("invalid info_hash")
				}
				r.InfoHashes = append(r.InfoHashes, h)
			}
		} else {
			h, err := id(raw)
			if err != nil {
				return nil, invalid("invalid info_hash")
			}
			r.InfoHashes = []string{h}
		}
	default:
		return nil, invalid("invalid action in WS request: %s", trunc(action))
	}
	return r, nil
}

func jsonErr(err error) string {
	if err == nil {
		return "null"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("byte %d: %v", se.Offset, se)
	}
	return trunc(err.Error())
}

func str(raw json.RawMessage, s *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(raw, s)
}

// id reads a 20-code-unit string.
func id(raw json.RawMessage) (string, error) {
	var s string
	if err := str(raw, &s); err != nil {
		return "", err
	}
	if utf16Len(s) != IDLen {
		return "", errors.New("want 20 characters")
	}
	return s, nil
}

// utf16Len is JavaScript's String.length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		if n > IDLen {
			return n
		}
	}
	return n
}

// left is JavaScript's Number(params.left), with NaN as Infinity.
func left(raw json.RawMessage) float64 {
	if len(raw) == 0 {
		return math.Inf(1)
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return 0 // Number("") is 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	if string(raw) == "null" || string(raw) == "false" {
		return 0
	}
	return math.Inf(1)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// truthy is JavaScript's truthiness of a JSON value.
func truthy(raw json.RawMessage) bool {
	switch s := string(bytes.TrimSpace(raw)); s {
	case "", "null", "false", "0", `""`:
		return false
	}
	return true
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Messages the tracker sends. Field names are the WebTorrent tracker's.
type announceResponse struct {
	Action     string `json:"action"`
	Interval   int    `json:"interval"`
	InfoHash   string `json:"info_hash"`
	Complete   int    `json:"complete"`
	Incomplete int    `json:"incomplete"`
}

type relayedOffer struct {
	Action   string          `json:"action"`
	Offer    json.RawMessage `json:"offer"`
	OfferID  string          `json:"offer_id"`
	PeerID   string          `json:"peer_id"`
	InfoHash string          `json:"info_hash"`
}

type relayedAnswer struct {
	Action   string          `json:"action"`
	Answer   json.RawMessage `json:"answer"`
	OfferID  string          `json:"offer_id"`
	PeerID   string          `json:"peer_id"`
	InfoHash string          `json:"info_hash"`
}

type scrapeFile struct {
	Complete   int `json:"complete"`
	Incomplete int `json:"incomplete"`
	Downloaded int `json:"downloaded"`
}

type scrapeResponse struct {
	Action string                `json:"action"`
	Files  map[string]scrapeFile `json:"files"`
	Flags  struct {
		MinRequestInterval int `json:"min_request_interval"`
	} `json:"flags"`
}

type failure struct {
	Action   string `json:"action,omitempty"`
	Reason   string `json:"failure reason"`
	InfoHash string `json:"info_hash,omitempty"`
}

// encode marshals a message; nil (nothing is sent) only if a relayed
// raw value were not valid JSON, which parsing rules out.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
