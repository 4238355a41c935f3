package client

import "github.com/onvm-network/onvm/client/wire"

// The bodies of the API's answers, defined once in package wire, which the
// node encodes and this package decodes; the names here save users an
// import.
type (
	BlobRef         = wire.BlobRef
	BlobInfo        = wire.BlobInfo
	Program         = wire.Program
	Manifest        = wire.Manifest
	Committee       = wire.Committee
	Member          = wire.Member
	CatalogEntry    = wire.CatalogEntry
	CatalogPage     = wire.CatalogPage
	StateRoot       = wire.StateRoot
	ExecuteResult   = wire.ExecuteResult
	Log             = wire.Log
	ReceiptSummary  = wire.ReceiptSummary
	ReceiptPage     = wire.ReceiptPage
	Receipt         = wire.Receipt
	JobStatus       = wire.JobStatus
	SubmitJobResult = wire.SubmitJobResult
	Job             = wire.Job
	JobOutput       = wire.JobOutput
	JobLog          = wire.JobLog
	JobLogs         = wire.JobLogs
	JobPage         = wire.JobPage
	Liveness        = wire.Liveness
	Readiness       = wire.Readiness
	Peers           = wire.Peers
	Self            = wire.Self
	Peer            = wire.Peer
	DAGHeads        = wire.DAGHeads
	Vertex          = wire.Vertex
	VertexOp        = wire.VertexOp
	DAGAuthor       = wire.DAGAuthor
	Equivocations   = wire.Equivocations
	Flag            = wire.Flag
	Equivocation    = wire.Equivocation
	Project         = wire.Project
	AuthCheck       = wire.AuthCheck
)
