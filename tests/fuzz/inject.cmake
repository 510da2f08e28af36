# Used by scripts/fuzz.sh only while the root CMakeLists.txt does not add
# tests/fuzz itself: passed as -DCMAKE_PROJECT_amlc_INCLUDE=<this file>, it
# runs right after project(amlc) and defers reading tests/fuzz/CMakeLists.txt
# to the end of the root file, when amlc_compiler and BUILD_TESTING exist.
# (A deferred call may not add_subdirectory, so the file is include()d.) Once
# the root adds tests/fuzz, this does nothing, even from an old cache.
file(READ "${CMAKE_SOURCE_DIR}/CMakeLists.txt" amlc_root_lists)
if(NOT amlc_root_lists MATCHES "add_subdirectory\\(tests/fuzz\\)")
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}"
                 CALL include "${CMAKE_SOURCE_DIR}/tests/fuzz/CMakeLists.txt")
endif()
