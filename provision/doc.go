// Package provision reads the settings IT provisions on a machine and
// layers them with the agent's own settings.
//
// One format, one set of names: every setting has a dotted name (Key, for
// example "sip.server") that is used verbatim as the JSON key of a
// provisioning file, the registry value name the MSI and Group Policy
// write on Windows, and the key of a macOS preference or configuration
// profile. The machine-wide sources, lowest precedence first, are:
//
//   - Linux and BSD: /etc/softphone/provisioning.json (a conffile of the
//     .deb and .rpm; the "locked" list inside it names the locked keys);
//   - Windows: %ProgramData%\Softphone\provisioning.json, then HKLM\SOFTWARE\Callcentre\Softphone (written by the MSI from
//     its public properties; a "locked" value lists locked keys), then
//     HKLM\SOFTWARE\Policies\Callcentre\Softphone (Group Policy or Intune:
//     every value there is locked);
//   - macOS: /Library/Application Support/Softphone/provisioning.json,
//     /Library/Preferences/io.callcentre.softphone.plist (defaults write),
//     then /Library/Managed Preferences/io.callcentre.softphone.plist (a
//     configuration profile from MDM: every key there is locked).
//
// Resolve lays the machine layers over each other (a later layer wins, a
// lock is never lifted) and the agent's own layer on top, except for
// locked keys, which the agent cannot change. Nothing has a default here:
// an unset key means "the app's built-in default" (Settings.IsSet).
//
// Bad input is an error that names the source and the key; a secret
// (password, token) in any source is refused, because secrets live only
// in the OS keyring.
//
// It imports only the standard library (and golang.org/x/sys/windows/registry
// on Windows); never agent, ui, sip, store or secrets.
//
// # Concurrency contract
//
// Layer and Settings are values, safe to share once built; Machine does
// file or registry I/O and is called once at start, off the UI goroutine.
package provision
