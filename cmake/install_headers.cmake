# Install-time half of cmake/package.cmake: installs the public headers and
# every one_collect header they include (followed transitively), nothing else.
# In: OC_HEADER_SOURCE_DIR (src/one_collect), OC_HEADER_DESTINATION
# (<prefix>/include/one_collect), OC_PUBLIC_HEADERS (paths relative to both).

# Install scripts start with every policy unset (IN_LIST, list(POP_FRONT)...).
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

set(queue ${OC_PUBLIC_HEADERS})
set(done)
while(queue)
  list(POP_FRONT queue header)
  if(header IN_LIST done)
    continue()
  endif()
  list(APPEND done ${header})
  set(path "${OC_HEADER_SOURCE_DIR}/${header}")
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "one_collect: public header ${header} does not exist: "
                        "update ONE_COLLECT_PUBLIC_HEADERS in cmake/package.cmake")
  endif()
  file(STRINGS "${path}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"one_collect/")
  foreach(line ${includes})
    string(REGEX REPLACE "^[^\"]*\"one_collect/([^\"]+)\".*$" "\\1" included "${line}")
    list(APPEND queue ${included})
  endforeach()
  get_filename_component(subdir "${header}" DIRECTORY)
  file(INSTALL DESTINATION "${OC_HEADER_DESTINATION}/${subdir}" TYPE FILE FILES "${path}")
endwhile()
cmake_policy(POP)
