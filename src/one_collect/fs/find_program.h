// Finding the file a command name runs, the way execvp does, so a recorder
// can refuse a command that cannot run before it opens anything, instead of
// reporting exit code 127 afterwards.
#pragma once

#include <string>

#include "one_collect/core/status.h"

namespace one_collect {

// The file `program` runs: itself when it contains a '/', else the first
// match along `path_env` (':'-separated; an empty entry is the current
// directory; nullptr means "/usr/local/bin:/usr/bin:/bin"). Only regular
// files match, and like execvp a match that is not executable is passed
// over for a later one.
// Errors: kNotFound when nothing matches (or the name is empty);
// kPermissionDenied when the only matches are not executable, or when a
// path names a directory. Messages start "command not found: 'NAME'" or
// "command 'FILE' is ...".
Result<std::string> find_program(const std::string& program, const char* path_env);

}  // namespace one_collect
