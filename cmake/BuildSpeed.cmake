# How fast the project compiles and links: ccache, mold, and for the release build (`make run`)
# a precompiled header and unity batches. Figures and the reasoning: the commit that added this.
#
# The test build (SB_TESTS=ON) keeps one compile command per source and no precompiled header:
# clang-tidy (ctest style.clang_tidy) reads those commands and cannot load GCC's .gch, and
# build.module_boundaries takes each module's flags from a command of one of its own sources.
if(SB_TESTS)
  set(sb_fast_default OFF)
else()
  set(sb_fast_default ON)
endif()
option(SB_PCH "Precompile the Boost, spdlog and standard headers most sources include"
       ${sb_fast_default})
option(SB_UNITY "Compile each module's sources in batches (CMake unity build)" ${sb_fast_default})
set(SB_UNITY_BATCH 8 CACHE STRING "Sources per unity batch")

# ccache, with paths below the source tree hashed relative to it (and the working directory left
# out of debug builds' hashes), so that every checkout of the project at any path shares one
# cache: a fresh clone builds from the cache of the last one. (Tests therefore take their data
# paths from SB_TESTS_DIR, never from __FILE__.) With a precompiled header ccache needs
# pch_defines,time_macros sloppiness, or it compiles every source itself (the code uses no
# __DATE__ or __TIME__ that time_macros could leave stale).
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(sb_ccache_env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1)
  if(SB_PCH)
    list(APPEND sb_ccache_env CCACHE_SLOPPINESS=pch_defines,time_macros)
  endif()
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env ${sb_ccache_env} ${CCACHE_PROGRAM})
endif()

# mold (Debian's package; scripts/install-deps installs it) links the binaries in a fraction of
# ld.bfd's time: they carry many duplicate Asio/Beast template instantiations to fold.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=mold SB_HAVE_MOLD)
if(SB_HAVE_MOLD)
  add_link_options(-fuse-ld=mold)
endif()

# The external headers most sources include, directly or through the project's own headers
# (counted from the build's dependency files): Asio (coroutines, timers, sockets), Beast's HTTP,
# Boost.JSON, spdlog/fmt, and the standard library. Parsing them is most of a source's compile
# time; precompiled once in sb_core, every module reuses the result.
set(SB_PCH_HEADERS
    <algorithm> <array> <chrono> <cstdint> <functional> <map> <memory> <mutex> <optional>
    <span> <string> <string_view> <unordered_map> <utility> <vector>
    <boost/asio.hpp> <boost/beast/core.hpp> <boost/beast/http.hpp> <boost/json.hpp>
    <spdlog/spdlog.h>)

# Applies the precompiled header and unity batches to one of the project's targets.
function(sb_build_speed target)
  if(SB_PCH)
    if(target STREQUAL "sb_core")
      target_precompile_headers(sb_core PRIVATE ${SB_PCH_HEADERS})
    else()
      target_precompile_headers(${target} REUSE_FROM sb_core)
    endif()
  endif()
  if(SB_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON
                                               UNITY_BUILD_BATCH_SIZE ${SB_UNITY_BATCH})
    # A class defined in a source, with members of that source's anonymous-namespace types, is
    # fine; GCC warns about it only where the source is not the main file, as in a batch.
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()
