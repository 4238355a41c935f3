package wire

import "time"

// AuthCheck is the answer to GET /auth/check: the verified project.
type AuthCheck struct {
	OK        bool   `json:"ok"`
	Auth      string `json:"auth"` // "enabled" or "disabled"
	ProjectID string `json:"project_id,omitempty"`
}

// Project is one registered project (GET /admin/projects).
type Project struct {
	ProjectID string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
}

// ProjectList is the answer to GET /admin/projects.
type ProjectList struct {
	Projects []Project `json:"projects"`
}

// NewProject is the body of POST /admin/projects; both fields are
// optional (the node picks an id and a random secret).
type NewProject struct {
	ProjectID     string `json:"project_id,omitempty"`
	ProjectSecret string `json:"project_secret,omitempty"` // 64 hex digits
}

// CreatedProject is the answer to POST /admin/projects: the only time the
// secret is shown.
type CreatedProject struct {
	ProjectID     string    `json:"project_id"`
	ProjectSecret string    `json:"project_secret"`
	CreatedAt     time.Time `json:"created_at"`
}

// RevokedProject is the answer to DELETE /admin/projects/{id}.
type RevokedProject struct {
	ProjectID string `json:"project_id"`
	Revoked   bool   `json:"revoked"`
}
