# Run at `cmake --install` time (install(SCRIPT) from the top-level
# CMakeLists.txt, after every other install rule): writes
# <prefix>/share/certvault/SHA256SUMS, the SHA-256 of each installed binary
# and module, in sha256sum(1) format with paths relative to the prefix.
# When the build sets CV_MANIFEST_SIGNING_KEY (a PEM private key file), also
# SHA256SUMS.sig: Ed25519/Ed448 sign the file itself, ECDSA and RSA its
# SHA-256 (`openssl dgst -sha256 -sign`, DER ECDSA / PKCS#1 v1.5).
# The self-tests check the running binary against it (docs/design/selftest.md).
set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(lines "")
foreach(rel IN LISTS CV_MANIFEST_FILES)
  if(EXISTS "${root}/${rel}")
    file(SHA256 "${root}/${rel}" digest)
    string(APPEND lines "${digest}  ${rel}\n")
  endif()
endforeach()
set(sums "${root}/share/certvault/SHA256SUMS")
file(WRITE "${sums}" "${lines}")
message(STATUS "Installing: ${sums}")
file(REMOVE "${sums}.sig")  # never leave a signature of an older manifest
if(CV_MANIFEST_SIGNING_KEY)
  execute_process(COMMAND openssl pkey -in "${CV_MANIFEST_SIGNING_KEY}" -noout -text
                  OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "CV_MANIFEST_SIGNING_KEY: cannot read ${CV_MANIFEST_SIGNING_KEY}")
  endif()
  if(text MATCHES "^ED(25519|448) ")
    set(sign openssl pkeyutl -sign -rawin -inkey "${CV_MANIFEST_SIGNING_KEY}" -in "${sums}" -out "${sums}.sig")
  else()
    set(sign openssl dgst -sha256 -sign "${CV_MANIFEST_SIGNING_KEY}" -out "${sums}.sig" "${sums}")
  endif()
  execute_process(COMMAND ${sign} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "signing the install manifest failed: ${err}")
  endif()
  message(STATUS "Installing: ${sums}.sig")
endif()
