# certvault_library(NAME SRCS ... DEPS ...): one static library per directory
# with explicit dependencies (like tink_cc_library / absl_cc_library).
# certvault_test(NAME SRCS ... DEPS ...): a GoogleTest binary registered with ctest.

set(CV_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wformat=2
    -Wimplicit-fallthrough -Wno-unused-parameter -Wno-missing-field-initializers)
if(CV_WERROR)
  list(APPEND CV_WARNINGS -Werror)
endif()
set(CV_HARDENING -fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GLIBCXX_ASSERTIONS)
if(CV_SANITIZE)
  # _FORTIFY_SOURCE conflicts with the sanitizers' interceptors.
  set(CV_HARDENING -fstack-protector-strong)
  add_compile_options(-fsanitize=${CV_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CV_SANITIZE})
endif()
if(CV_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# CV_NO_UNDEFINED: the link option that makes a module (.so) name every symbol
# it needs. Clang leaves the sanitizer runtime out of shared objects (the
# executable that loads them carries it), so sanitized clang builds go without.
set(CV_NO_UNDEFINED -Wl,--no-undefined)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND (CV_SANITIZE OR CV_FUZZ))
  set(CV_NO_UNDEFINED "")
endif()

function(certvault_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(${name} PRIVATE ${CV_WARNINGS} ${CV_HARDENING})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(certvault_test name)
  if(NOT CV_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${CV_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)
endfunction()

function(certvault_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
