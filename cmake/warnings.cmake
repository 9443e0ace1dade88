# Strict warnings for our own targets only (third-party code builds as is).
# Build-tree only: libraries link it PRIVATE, and the installed package's copy
# (one_collect::oc_warnings, named by the static libraries' link-only
# dependencies) must not impose our warnings on an embedder.
add_library(oc_warnings INTERFACE)
target_compile_options(oc_warnings INTERFACE
  $<BUILD_INTERFACE:-Wall -Wextra -Werror -Wshadow -Wno-unused-parameter>)
