package store

// AppName is the directory name of the app's data.
const AppName = "softphone"

// DefaultDir returns the per-OS directory the database lives in:
// $XDG_DATA_HOME/softphone (or ~/.local/share/softphone) on Linux and other
// Unix systems, %APPDATA%\softphone on Windows and
// ~/Library/Application Support/softphone on macOS.
func DefaultDir() (string, error) { return defaultDir() }
