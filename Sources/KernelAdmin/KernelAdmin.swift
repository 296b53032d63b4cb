// The admin HTTP API.
