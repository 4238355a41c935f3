package auth

import "context"

type projectKeyType struct{}

// WithProject returns ctx carrying the authenticated project id.
func WithProject(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, projectKeyType{}, id)
}

// ProjectFrom returns the authenticated project id of a request's context,
// or "" when the request was not authenticated (auth off, public route).
func ProjectFrom(ctx context.Context) string {
	id, _ := ctx.Value(projectKeyType{}).(string)
	return id
}
