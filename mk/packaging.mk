# packaging: installers for IT (see packaging/README.md).
#   make deb rpm        Linux packages (nfpm, pinned in packaging/tools/go.mod)
#   make windows msi    Windows exe cross-built with mingw-w64 + static PortAudio, MSI with wixl
#   make sign           Authenticode-sign the exe and the MSI (SIGN_CERT, SIGN_KEY[, SIGN_TSA])
#   make macos-bundle   the .app skeleton (Info.plist, entitlements, icns); the rest needs a Mac
# Everything goes to build/ (intermediate, cached) and dist/ (artifacts).

# PKG_VERSION is the numeric x.y.z of the packages (MSI compares only three
# fields): the latest vX.Y.Z tag, else 0.1.0.
PKG_VERSION ?= $(shell git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' 2>/dev/null | sed 's/^v//' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$$' || echo 0.1.0)
PKGBUILD    := build/pkg
DIST        := dist
NFPM        := build/tools/nfpm
WINBUILD    := build/windows
WINEXE      := $(WINBUILD)/softphone.exe
MSI         := $(DIST)/Softphone-$(PKG_VERSION)-x64.msi
PA_PREFIX   := build/mingw
MACAPP      := $(DIST)/macos/Softphone.app
ICON_SIZES  := 16 32 48 64 128 256 512 1024
PKG_LDFLAGS := -s -w -X main.version=$(PKG_VERSION)

.PHONY: packages linux-binary icons deb rpm windows windows-background mingw-libs msi sign macos-bundle test-packaging clean-packaging

# make test starts the Windows cross-build in the background before go vet,
# so the cold build overlaps the vet and the tests; the packaging test
# waits for it and checks the exe and the MSI. SOFTPHONE_TEST_WINDOWS=0
# skips the cross-build (outside CI) and checks an exe left by make windows.
test: windows-background

packages: deb rpm msi macos-bundle ## packaging: the .deb, .rpm, MSI and macOS bundle skeleton in dist/
	@ls -l $(DIST)/*.deb $(DIST)/*.rpm $(DIST)/*.msi
	@du -sh $(MACAPP)

$(NFPM): packaging/tools/go.mod packaging/tools/go.sum
	$(GO) -C packaging/tools build -o $(CURDIR)/$(NFPM) github.com/goreleaser/nfpm/v2/cmd/nfpm

linux-binary: ## packaging: the release binary for the Linux packages (build/pkg/softphone)
	@scripts/deps.sh build
	@mkdir -p $(PKGBUILD)
	$(GO) build -trimpath -ldflags "$(PKG_LDFLAGS)" -o $(PKGBUILD)/softphone ./cmd/softphone

icons: ## packaging: render assets/icon.svg at every size (build/pkg/icons/N.png)
	@mkdir -p $(PKGBUILD)/icons
	@for s in $(ICON_SIZES); do rsvg-convert -w $$s -h $$s assets/icon.svg -o $(PKGBUILD)/icons/$$s.png || exit 1; done

$(PKGBUILD)/io.callcentre.softphone.metainfo.xml: packaging/linux/io.callcentre.softphone.metainfo.xml
	@mkdir -p $(PKGBUILD)
	sed -e 's/@VERSION@/$(PKG_VERSION)/' -e "s/@DATE@/$$(date -u +%F)/" $< > $@

deb: $(NFPM) linux-binary icons $(PKGBUILD)/io.callcentre.softphone.metainfo.xml ## packaging: the .deb (nfpm) in dist/
	@mkdir -p $(DIST)
	VERSION=$(PKG_VERSION) PKGBUILD=$(PKGBUILD) $(NFPM) package -f packaging/linux/nfpm.yaml -p deb -t $(DIST)/

rpm: $(NFPM) linux-binary icons $(PKGBUILD)/io.callcentre.softphone.metainfo.xml ## packaging: the .rpm (nfpm) in dist/
	@mkdir -p $(DIST)
	VERSION=$(PKG_VERSION) PKGBUILD=$(PKGBUILD) $(NFPM) package -f packaging/linux/nfpm.yaml -p rpm -t $(DIST)/

mingw-libs: ## packaging: static PortAudio 19.7.0 and speexdsp 1.2.1 for mingw-w64 (cached in build/mingw)
	packaging/windows/mingw-libs.sh $(PA_PREFIX)

windows: mingw-libs icons ## packaging: cross-build build/windows/softphone.exe for windows/amd64 (signed when SIGN_CERT/SIGN_KEY are set)
	VERSION=$(PKG_VERSION) PA_PREFIX=$(PA_PREFIX) ICONS=$(PKGBUILD)/icons OUT=$(WINEXE) packaging/windows/build-exe.sh
	@if [ -n "$(SIGN_CERT)" ]; then packaging/windows/sign.sh $(WINEXE); fi

windows-background: ## packaging: start make windows in the background (make test does; the packaging test waits for it; SOFTPHONE_TEST_WINDOWS=0 skips)
	@packaging/windows/background.sh $(PKG_VERSION)

msi: windows ## packaging: the MSI (wixl) and DefaultAssociations.xml in dist/, from build/windows/softphone.exe
	@mkdir -p $(DIST)
	VERSION=$(PKG_VERSION) packaging/windows/build-msi.sh $(WINEXE) $(MSI)
	@if [ -n "$(SIGN_CERT)" ]; then packaging/windows/sign.sh $(MSI); fi
	cp packaging/windows/DefaultAssociations.xml $(DIST)/

sign: ## packaging: sign the exe and the MSI with osslsigncode (SIGN_CERT=cert.pem SIGN_KEY=key.pem [SIGN_TSA=url])
	@test -n "$(SIGN_CERT)" -a -n "$(SIGN_KEY)" || { echo "sign: set SIGN_CERT and SIGN_KEY (PEM files)"; exit 1; }
	packaging/windows/sign.sh $(WINEXE)
	VERSION=$(PKG_VERSION) packaging/windows/build-msi.sh $(WINEXE) $(MSI)
	packaging/windows/sign.sh $(MSI)

macos-bundle: icons ## packaging: the macOS .app skeleton (Info.plist, entitlements, icns) in dist/macos; build-mac.sh on a Mac does the rest
	VERSION=$(PKG_VERSION) ICONS=$(PKGBUILD)/icons packaging/macos/make-skeleton.sh $(MACAPP)

test-packaging: windows-background ## packaging: build the packages and check them, the Windows cross-build and MSI included (SOFTPHONE_TEST_WINDOWS=0: an exe from make windows, if any)
	$(GO) test -count=1 -v -timeout 30m ./packaging/...

clean-packaging: ## packaging: remove build/ and the packages (keeps nothing cached)
	rm -rf build $(DIST)
