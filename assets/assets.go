// Package assets embeds the files the app ships: icons and translations. It
// has no logic and imports only the standard library.
//
// Icons exist as SVG (for widgets, which render vectors) and as PNG raster
// (for the window and the tray: GLFW and the tray hosts reject SVG).
// Translations are flat JSON objects per language, keyed by the English
// source text (translations/de.json); English needs no file.
package assets

import "embed"

// Icon is the application icon (SVG), for use inside widgets.
//
//go:embed icon.svg
var Icon []byte

// IconPNG is the application icon rasterised to 256x256 PNG, for the window,
// the tray and notifications.
//
//go:embed icon.png
var IconPNG []byte

// Translations holds translations/<lang>.json, keyed by English text.
//
//go:embed translations/*.json
var Translations embed.FS
