# The engine's layer, checked (docs/architecture.md "Layers"; STYLE.md 1 and 2). Run by CTest as
# `engine_layer`; by hand:
#
#   cmake -P tests/engine_layer_check.cmake                      # checks engine/ next to tests/
#   cmake -DENGINE_DIR=/some/engine -P tests/engine_layer_check.cmake
#
# Fails, naming file and line, when a file under ENGINE_DIR (recursively: .h .hpp .cpp .cc .inl)
#  - includes a quoted header that is not spelled "engine/..." from the project root (or has ".."),
#  - includes an angle-bracket header that is not in the allow-list of standard headers below,
#  - calls a clock, sleeps, draws randomness or reads the environment (the patterns below);
# and when ENGINE_DIR/CMakeLists.txt finds or links a package (the engine links nothing).
# Comments and string and character literals are blanked before the API patterns are matched, so
# "clock" in a comment, WallClock, local_time, parse_clock() or a member clock(...) pass.
# Not handled: raw string literals (R"(...)"), macros that hide a call. Pure CMake: no python.
cmake_minimum_required(VERSION 3.22)

if(NOT DEFINED ENGINE_DIR)
  get_filename_component(ENGINE_DIR "${CMAKE_CURRENT_LIST_DIR}/../engine" ABSOLUTE)
endif()
if(NOT IS_DIRECTORY "${ENGINE_DIR}")
  message(FATAL_ERROR "engine layer: ENGINE_DIR=${ENGINE_DIR} is not a folder")
endif()
get_filename_component(_root "${ENGINE_DIR}" DIRECTORY)

# C++20 standard headers the engine may include. Left out on purpose, each a contract of its own:
# <chrono> <ctime> (no clock), <random> (no randomness: the simulator owns seeded streams),
# <thread> <mutex> <shared_mutex> <condition_variable> <future> <atomic> <stop_token> <semaphore>
# <latch> <barrier> <execution> (the engine is single-threaded per site; callers own threads),
# <cfenv> (the rounding mode is part of the hash contract), <csignal> <csetjmp>.
# C headers (<math.h>, <stdio.h>, ...) are not listed: the project uses <cmath>, <cstdio>.
# Adding a header here is a design decision: say why in the commit.
# <immintrin.h> (not standard; GCC's x86 intrinsics): the gathering finder's distance masks in SSE2
# or AVX2, the same IEEE operations lane by lane, so the processor's choice never reaches a result
# (docs/architecture.md "Floating point and the golden hashes").
set(ALLOWED_STD_HEADERS immintrin.h
  algorithm any array bit bitset cassert cctype cerrno cfloat charconv cinttypes climits clocale
  cmath compare complex concepts coroutine cstdarg cstddef cstdint cstdio cstdlib cstring cuchar
  cwchar cwctype deque exception filesystem format forward_list fstream functional
  initializer_list iomanip ios iosfwd iostream istream iterator limits list locale map memory
  memory_resource new numbers numeric optional ostream queue ranges ratio regex scoped_allocator
  set source_location span sstream stack stdexcept streambuf string string_view system_error
  tuple type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant
  vector version)

# Placeholders, so that a file's text can be a CMake list of lines (";", "[", "]" and "\" have
# meanings in lists; the patterns below use ${SEMI} for ";"). Control characters do not occur in
# the sources.
string(ASCII 1 BS)
string(ASCII 2 SEMI)
string(ASCII 3 LBR)
string(ASCII 4 RBR)

# Forbidden uses: "what it is|regex" pairs, matched on a line whose comments and literals are
# blanked and which starts and ends with a space (so the boundary classes also match at the ends).
# A boundary is [^A-Za-z0-9_]; before a call it also excludes "." and "->" (a member of ours named
# so) and, where a std:: pattern follows, "::". time() is matched with the arguments it takes
# (nullptr, NULL, 0, &t) and a bare clock() with none in an expression, so a member time(key), a
# declaration "const WallClock& clock() const" or a member init clock(setup.clock) pass.
set(_b "[^A-Za-z0-9_]")
set(_call "[^A-Za-z0-9_.>:]")
set(FORBIDDEN
  "a std::chrono clock|${_b}(system_clock|steady_clock|high_resolution_clock|utc_clock|tai_clock|gps_clock|file_clock)${_b}"
  "time() reads the clock|${_call}time[ \t]*\\([ \t]*(nullptr|NULL|0[ \t]*\\)|&)"
  "std::time() reads the clock|[^A-Za-z0-9_:](std)?::time[ \t]*\\("
  "std::clock() reads the CPU clock|[^A-Za-z0-9_:](std)?::clock[ \t]*\\("
  "clock() reads the CPU clock|(^|[=({,${SEMI}!?+/|<-]|return)[ \t]*clock[ \t]*\\([ \t]*\\)"
  "a C clock or calendar call|[^A-Za-z0-9_.>](gettimeofday|clock_gettime|timespec_get|ftime|localtime|localtime_r|gmtime|gmtime_r|mktime|timegm|ctime|asctime)[ \t]*\\("
  "a sleep|${_b}(this_thread|sleep_for|sleep_until|usleep|nanosleep)${_b}"
  "sleep()|[^A-Za-z0-9_.>]sleep[ \t]*\\("
  "randomness|${_b}(random_device|mt19937|mt19937_64|minstd_rand|minstd_rand0|default_random_engine|ranlux24|ranlux48|ranlux24_base|ranlux48_base|knuth_b|mersenne_twister_engine|linear_congruential_engine|subtract_with_carry_engine|random_shuffle|srand|srandom|rand_r|drand48|erand48|lrand48|nrand48|mrand48|jrand48|arc4random|getrandom)${_b}"
  "rand()|${_call}rand[ \t]*\\("
  "std::rand()|[^A-Za-z0-9_:](std)?::rand[ \t]*\\("
  "the environment|[^A-Za-z0-9_.>](getenv|secure_getenv|setenv|unsetenv|putenv|environ|_environ)${_b}"
  "the build's date or time|${_b}(__DATE__|__TIME__|__TIMESTAMP__)${_b}"
)

set(problems "")
set(nproblems 0)
function(problem why)
  string(REPLACE "${BS}" "\\" _shown "${raw}")
  string(REPLACE "${SEMI}" ";" _shown "${_shown}")
  string(REPLACE "${LBR}" "[" _shown "${_shown}")
  string(REPLACE "${RBR}" "]" _shown "${_shown}")
  string(STRIP "${_shown}" _shown)
  string(APPEND problems "  ${rel}:${n}: ${why}\n      ${_shown}\n")
  math(EXPR nproblems "${nproblems} + 1")
  set(problems "${problems}" PARENT_SCOPE)
  set(nproblems ${nproblems} PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE files LIST_DIRECTORIES false
     "${ENGINE_DIR}/*.h" "${ENGINE_DIR}/*.hpp" "${ENGINE_DIR}/*.cpp" "${ENGINE_DIR}/*.cc" "${ENGINE_DIR}/*.inl")
list(SORT files)
list(LENGTH files nfiles)
if(nfiles EQUAL 0)
  message(FATAL_ERROR "engine layer: no sources under ${ENGINE_DIR}")
endif()

foreach(file IN LISTS files)
  file(RELATIVE_PATH rel "${_root}" "${file}")
  file(READ "${file}" text)
  string(REPLACE "\\" "${BS}" text "${text}")
  string(REPLACE ";" "${SEMI}" text "${text}")
  string(REPLACE "[" "${LBR}" text "${text}")
  string(REPLACE "]" "${RBR}" text "${text}")
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(n 0)
  set(in_block FALSE)
  foreach(raw IN LISTS lines)
    math(EXPR n "${n} + 1")
    set(code "${raw}")
    # the rest of a block comment
    if(in_block)
      string(FIND "${code}" "*/" p)
      if(p EQUAL -1)
        continue()
      endif()
      math(EXPR p "${p} + 2")
      string(SUBSTRING "${code}" ${p} -1 code)
      set(in_block FALSE)
    endif()

    # includes
    if(code MATCHES "^[ \t]*#[ \t]*include(.*)$")
      set(rest "${CMAKE_MATCH_1}")
      if(rest MATCHES "^[ \t]*\"([^\"]*)\"")
        set(h "${CMAKE_MATCH_1}")
        if(NOT h MATCHES "^engine/" OR h MATCHES "\\.\\.")
          problem("includes \"${h}\": the engine includes only \"engine/...\" (spelled from the project root)")
        endif()
      elseif(rest MATCHES "^[ \t]*<([^>]*)>")
        set(h "${CMAKE_MATCH_1}")
        list(FIND ALLOWED_STD_HEADERS "${h}" found)
        if(found EQUAL -1)
          problem("includes <${h}>: not in the engine's allow-list of standard headers (tests/engine_layer_check.cmake)")
        endif()
      else()
        problem("an include that is neither \"engine/...\" nor <standard>")
      endif()
      continue()
    endif()

    # blank character and string literals, then comments (left to right)
    string(REGEX REPLACE "'(${BS}.|[^'${BS}])'" "' '" code "${code}")
    string(REGEX REPLACE "\"(${BS}.|[^\"${BS}])*\"" "\"\"" code "${code}")
    while(TRUE)
      string(FIND "${code}" "//" p1)
      string(FIND "${code}" "/*" p2)
      if(NOT p1 EQUAL -1 AND (p2 EQUAL -1 OR p1 LESS p2))
        string(SUBSTRING "${code}" 0 ${p1} code)
        break()
      elseif(NOT p2 EQUAL -1)
        string(SUBSTRING "${code}" 0 ${p2} head)
        math(EXPR q "${p2} + 2")
        string(SUBSTRING "${code}" ${q} -1 tail)
        string(FIND "${tail}" "*/" p3)
        if(p3 EQUAL -1)
          set(code "${head}")
          set(in_block TRUE)
          break()
        endif()
        math(EXPR p3 "${p3} + 2")
        string(SUBSTRING "${tail}" ${p3} -1 tail)
        set(code "${head} ${tail}")
      else()
        break()
      endif()
    endwhile()

    set(code " ${code} ")
    foreach(rule IN LISTS FORBIDDEN)
      string(FIND "${rule}" "|" bar)
      string(SUBSTRING "${rule}" 0 ${bar} what)
      math(EXPR bar "${bar} + 1")
      string(SUBSTRING "${rule}" ${bar} -1 re)
      if(code MATCHES "${re}")
        problem("${what}: the engine takes time, randomness and settings as inputs (docs/architecture.md)")
      endif()
    endforeach()
  endforeach()
endforeach()

# the engine's target finds and links nothing
if(EXISTS "${ENGINE_DIR}/CMakeLists.txt")
  set(file "${ENGINE_DIR}/CMakeLists.txt")
  file(RELATIVE_PATH rel "${_root}" "${file}")
  file(STRINGS "${file}" cm_lines)
  set(n 0)
  foreach(raw IN LISTS cm_lines)
    math(EXPR n "${n} + 1")
    string(REGEX REPLACE "#.*$" "" code "${raw}")
    if(code MATCHES "(^|[^A-Za-z0-9_])(find_package|pkg_check_modules|target_link_libraries|link_libraries|FetchContent_[A-Za-z]+|target_link_directories)[ \t]*\\(")
      problem("${CMAKE_MATCH_2}: the engine's target uses the standard library only")
    endif()
  endforeach()
endif()

if(nproblems GREATER 0)
  message(FATAL_ERROR "engine layer: ${nproblems} problem(s) in ${ENGINE_DIR}:\n${problems}")
endif()
message(STATUS "engine layer: ${nfiles} files under ${ENGINE_DIR}: only engine/ and standard headers, no clock, randomness or environment")
