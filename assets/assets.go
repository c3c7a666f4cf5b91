// Package assets embeds the files the app ships: icons, ringtones and
// translations. It has no logic.
package assets

import _ "embed"

// Icon is the application icon (SVG).
//
//go:embed icon.svg
var Icon []byte
