# Strict warnings for our own targets only (third-party code builds as is).
add_library(oc_warnings INTERFACE)
target_compile_options(oc_warnings INTERFACE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter)
