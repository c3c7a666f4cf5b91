// Package packaging holds no code of the app: it is the home of the
// installers' sources (linux/: nfpm, .desktop, AppStream; windows/: the
// mingw cross-build, wixl MSI, signing; macos/: the bundle skeleton and
// the Mac-only build script) and of their test, which builds the packages
// with the same make targets IT and CI use and checks them with Debian's
// tools (desktop-file-validate, xdg-mime, dpkg-deb, rpm, msiinfo,
// msidump, osslsigncode).
//
// It must not be imported; it imports only the standard library and, in
// its test, provision (to check the shipped provisioning files parse).
//
// # Concurrency contract
//
// None: there is no code to call. The test runs make targets one after
// another (they share build/).
package packaging
