# The libFuzzer flavour (-DONE_COLLECT_FUZZ=ON, clang): every target is
# compiled with libFuzzer's coverage instrumentation and ASan/UBSan, so the
# fuzzers can link the libraries as they are and still get coverage feedback
# from inside the parsers. Only the fuzzers themselves link libFuzzer
# (fuzz/CMakeLists.txt); the ASan runtime provides the coverage hooks every
# other program needs.
if(ONE_COLLECT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ONE_COLLECT_FUZZ needs clang (scripts/build fuzz uses clang-14)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
