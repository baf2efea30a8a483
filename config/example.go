package config

import _ "embed"

// Example is the complete annotated dr.yaml (docs/configuration.md
// shows it). A test keeps its values equal to Default.
//
//go:embed dr.example.yaml
var Example []byte
