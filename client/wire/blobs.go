package wire

import "time"

// BlobRef is the answer to POST /blobs: 201 when the bytes are new, 200
// when the node already stored them.
type BlobRef struct {
	ID   string `json:"id"` // "blob" + 64 hex
	Size int64  `json:"size"`
	// Created is not in the body: the client sets it from the status
	// (201), true when the node did not have these bytes before.
	Created bool `json:"-"`
}

// BlobInfo is the answer to GET /blobs/{id}/info.
type BlobInfo struct {
	ID        string    `json:"id"`
	Size      int64     `json:"size"`
	MIME      string    `json:"mime"`
	Groups    int       `json:"groups"`   // chunk groups
	Complete  bool      `json:"complete"` // every byte is stored on this node
	CreatedAt time.Time `json:"created_at"`
}
