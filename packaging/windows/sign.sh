#!/usr/bin/env bash
# Authenticode-signs a PE (exe) or an MSI in place with osslsigncode.
# Sign the exe before it goes into the MSI, and the MSI last, after every
# msibuild edit. Env: SIGN_CERT (PEM certificate chain), SIGN_KEY (PEM
# key; for an HSM use osslsigncode's -pkcs11module options by hand),
# SIGN_TSA (RFC 3161 timestamp URL; without it the signature stops
# validating when the certificate expires), SIGN_CA (optional: verify
# against this CA file, for self-signed test certificates).
# Usage: packaging/windows/sign.sh FILE
set -euo pipefail
f=${1:?usage: sign.sh FILE}
: "${SIGN_CERT:?set SIGN_CERT}" "${SIGN_KEY:?set SIGN_KEY}"
ts=()
if [ -n "${SIGN_TSA:-}" ]; then
	ts=(-ts "$SIGN_TSA")
fi
out="$f.signed"
rm -f "$out" # osslsigncode refuses to overwrite
osslsigncode sign -certs "$SIGN_CERT" -key "$SIGN_KEY" -h sha256 -n "Softphone" \
	-i https://github.com/callcentre/softphone "${ts[@]}" -in "$f" -out "$out" >/dev/null
mv -f "$out" "$f"
ca=()
if [ -n "${SIGN_CA:-}" ]; then
	ca=(-CAfile "$SIGN_CA")
fi
osslsigncode verify "${ca[@]}" -in "$f" >/dev/null
echo "sign: $f signed and verified"
