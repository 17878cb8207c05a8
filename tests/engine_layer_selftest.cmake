# Proves that tests/engine_layer_check.cmake can fail: writes small engine/ folders under WORK_DIR,
# one clean folder full of look-alikes that must pass (comments, literals, WallClock, local_time,
# parse_clock, a member clock(...)), and one folder per rule with one bad line that must fail
# naming that file and line. Run by CTest as `engine_layer_selftest`; by hand:
#
#   cmake -DWORK_DIR=/tmp/layer -P tests/engine_layer_selftest.cmake
cmake_minimum_required(VERSION 3.22)

if(NOT DEFINED WORK_DIR)
  message(FATAL_ERROR "give -DWORK_DIR=<a scratch folder>")
endif()
set(CHECK "${CMAKE_CURRENT_LIST_DIR}/engine_layer_check.cmake")
file(REMOVE_RECURSE "${WORK_DIR}")

set(failures "")

function(run_check dir out_rc out_text)
  execute_process(COMMAND "${CMAKE_COMMAND}" "-DENGINE_DIR=${dir}" -P "${CHECK}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(${out_rc} "${rc}" PARENT_SCOPE)
  set(${out_text} "${out}" PARENT_SCOPE)
endfunction()

# --- a clean engine: everything here must pass -------------------------------------------------
set(ok "${WORK_DIR}/clean/engine")
file(WRITE "${ok}/model.h" [=[
// The model reads no clock: not std::chrono::steady_clock::now(), not time(nullptr), not rand().
/* Nor getenv("TZ"),
   nor std::random_device, nor gettimeofday(&tv, nullptr). */
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/time.h"

namespace planttwin {
struct WallClock { std::int64_t start_unix_s = 0; };
struct LocalTime { int minute = 0; };
LocalTime local_time(const WallClock& clock, std::int64_t t);
bool parse_clock(const std::string& s, int& minute_of_day);

class EngineModel {
 public:
  explicit EngineModel(const WallClock& c) : clock_(c) {}
  const WallClock& clock() const { return clock_; }
  std::int64_t time(const char* key) const;  // a member of ours named time
  std::string note() const { return "time(nullptr) and getenv(\"X\") in a string"; }
  char sep() const { return ';'; }
  char quote() const { return '\''; }

 private:
  WallClock clock_;
  std::vector<int> steady_clock_ticks_;  // an identifier that contains a clock's name
};
}  // namespace planttwin
]=])
file(WRITE "${ok}/rules/stationary.cpp" [=[
#include "engine/model.h"

#include <algorithm>
#include <cmath>

namespace planttwin {
struct Setup { WallClock clock; };
struct Rule {
  explicit Rule(const Setup& setup) : clock(setup.clock) {}  // member init, not std::clock()
  WallClock clock;
};
int minute(const EngineModel& m, std::int64_t t) {
  int a[2] = {0, 1};
  const LocalTime lt = local_time(m.clock(), t); /* the model's clock */ int mod = 0;
  int parsed = 0;
  parse_clock("08:00", parsed);
  return lt.minute + a[1] + mod + static_cast<int>(m.time("ts")) + parsed;  // rand() in a comment
}
}  // namespace planttwin
]=])
file(WRITE "${ok}/CMakeLists.txt" "file(GLOB_RECURSE S *.cpp)\nadd_library(planttwin_engine STATIC \${S})  # target_link_libraries(none)\n")
run_check("${ok}" rc out)
if(NOT rc EQUAL 0)
  string(APPEND failures "the clean folder was refused:\n${out}\n")
endif()

# --- one bad line per case: "name|file|line|text"; the text may span lines ("line" is the bad one)
# and writes ";" as @S@ (a ";" would split this list) ------------------------------------------
set(cases
  "quoted include of a higher layer|x.cpp|2|#include \"engine/time.h\"\n#include \"sim/motion.h\""
  "quoted include out through ..|x.cpp|1|#include \"engine/../scenarios/runner.h\""
  "quoted include, folder-relative|x.cpp|1|#include \"time.h\""
  "third-party header|x.h|3|#pragma once\n#include <vector>\n#include <yaml-cpp/yaml.h>"
  "standard header left out: chrono|x.h|1|#include <chrono>"
  "standard header left out: random|x.h|1|#include <random>"
  "standard header left out: thread|x.h|1|#include <thread>"
  "C header|x.h|1|#include <time.h>"
  "nested folder|rules/bad.cpp|3|// fine\n#include \"engine/model.h\"\n#include \"scenarios/runner.h\""
  "system_clock|x.cpp|1|auto t = std::chrono::system_clock::now()@S@"
  "steady_clock|x.cpp|2|int f() {\n  const auto t0 = std::chrono::steady_clock::now()@S@\n  return 0@S@ }"
  "high_resolution_clock|x.cpp|1|using C = std::chrono::high_resolution_clock@S@"
  "time(nullptr)|x.cpp|1|long t = time(nullptr)@S@"
  "time(&t)|x.cpp|1|void f(long t) { time(&t)@S@ }"
  "std::time|x.cpp|1|long t = std::time(p)@S@"
  "clock()|x.cpp|1|long c = clock()@S@"
  "std::clock|x.cpp|1|long c = std::clock()@S@"
  "return clock()|x.cpp|1|long f() { return clock()@S@ }"
  "gettimeofday|x.cpp|1|void f() { gettimeofday(&tv, nullptr)@S@ }"
  "clock_gettime|x.cpp|1|void f() { clock_gettime(CLOCK_MONOTONIC, &ts)@S@ }"
  "localtime|x.cpp|1|void f() { std::localtime(&t)@S@ }"
  "rand()|x.cpp|1|int r = rand() % 6@S@"
  "std::rand|x.cpp|1|int r = std::rand()@S@"
  "srand|x.cpp|1|void f() { srand(7)@S@ }"
  "random_device|x.cpp|1|std::random_device rd@S@"
  "mt19937|x.cpp|1|std::mt19937 g(1)@S@"
  "mt19937_64|x.cpp|1|std::mt19937_64 g(1)@S@"
  "getenv|x.cpp|1|const char* z = getenv(\"TZ\")@S@"
  "std::getenv|x.cpp|1|const char* z = std::getenv(\"TZ\")@S@"
  "sleep_for|x.cpp|1|void f() { std::this_thread::sleep_for(d)@S@ }"
  "__TIME__|x.cpp|1|const char* built = __TIME__@S@"
  "code after a closed block comment|x.cpp|1|/* fine */ long t = time(nullptr)@S@"
  "code after a block comment ends|x.cpp|3|/* a comment\n   over lines */\nlong t = time(nullptr)@S@"
  "code after a string with // in it|x.cpp|1|const char* u = \"http://x\"@S@ int r = rand()@S@"
  "code after a character literal|x.cpp|1|char q = '\\''@S@ int r = rand()@S@"
  "a CMake link|CMakeLists.txt|2|add_library(planttwin_engine STATIC x.cpp)\ntarget_link_libraries(planttwin_engine PUBLIC yaml-cpp)"
)
set(k 0)
foreach(c IN LISTS cases)
  math(EXPR k "${k} + 1")
  string(REPLACE "|" ";" parts "${c}")
  list(GET parts 0 name)
  list(GET parts 1 file)
  list(GET parts 2 line)
  list(GET parts 3 text)
  string(REPLACE "@S@" ";" text "${text}")
  set(dir "${WORK_DIR}/bad${k}/engine")
  file(WRITE "${dir}/${file}" "${text}\n")
  if(file STREQUAL "CMakeLists.txt")
    file(WRITE "${dir}/ok.cpp" "int ok();\n")  # the check needs a source to look at
  endif()
  run_check("${dir}" rc out)
  if(rc EQUAL 0)
    string(APPEND failures "not caught: ${name} (${dir}/${file})\n")
  elseif(NOT out MATCHES "engine/${file}:${line}:")
    string(APPEND failures "caught, but without engine/${file}:${line}: ${name}\n${out}\n")
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "engine layer self-test:\n${failures}")
endif()
message(STATUS "engine layer self-test: the clean folder passes, all ${k} bad cases fail naming file and line")
