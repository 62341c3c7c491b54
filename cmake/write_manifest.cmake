# Run at `cmake --install` time (install(SCRIPT) from the top-level
# CMakeLists.txt, after every other install rule): writes
# <prefix>/share/certvault/SHA256SUMS, the SHA-256 of each installed binary
# and module, in sha256sum(1) format with paths relative to the prefix.
# The self-tests check the running binary against it (docs/design/selftest.md).
set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(lines "")
foreach(rel IN LISTS CV_MANIFEST_FILES)
  if(EXISTS "${root}/${rel}")
    file(SHA256 "${root}/${rel}" digest)
    string(APPEND lines "${digest}  ${rel}\n")
  endif()
endforeach()
file(WRITE "${root}/share/certvault/SHA256SUMS" "${lines}")
message(STATUS "Installing: ${root}/share/certvault/SHA256SUMS")
