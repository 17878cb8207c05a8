// Checkpoint files (issue 12; format: docs/checkpoint.md). A checkpoint holds everything a run
// needs to continue exactly where it was: the engine's state, the oracle twin's, the runner's
// (collected outputs, script position, noise), and in simulated runs the simulator's (random
// streams, solver filters, statistics). `planttwin run --resume FILE` continues from one and gives
// the same report hash as the uninterrupted run.
//
// The file is a sequence of records in the style of LevelDB's log format: each record carries a
// CRC-32 of its type and payload, so a damaged file is refused with the record that failed.
// Files are written to a temporary name and renamed, so a reader never sees half a checkpoint.
//
// Thread-safety: functions of their arguments; files are written by one thread.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/time.h"
#include "scenarios/scenario.h"

namespace planttwin {

// Version of the file format (the record grammar and the META fields).
constexpr std::uint32_t kCheckpointFormat = 2;  // 2: runner records carry the fix log (issue 19)

struct CheckpointMeta {
  std::string scenario;         // the scenario's `scenario` name
  std::string scenario_sha256;  // of the scenario file as read ("" inline)
  std::string site;             // the site's name
  std::string site_sha256;      // of the site file ("" for an inline site)
  std::uint64_t model_fingerprint = 0;  // EngineModel::fingerprint
  std::uint32_t engine_layout = 0;      // kEngineStateLayout of the writer
  Micros t = 0;                 // everything at or before this engine time has been decided
  std::string positioning;      // truth, simulated, live
  std::string writer;           // "planttwin VERSION"
};

struct RunCheckpoint {
  CheckpointMeta meta;
  std::string engine;  // encode_state() of the engine
  std::string oracle;  // of the oracle twin; "" when the run has none
  std::string runner;  // the runner's own state (scenarios/runner.cpp)
  std::string sim;     // the simulated positioning pipeline's state; "" otherwise
};

std::string encode_checkpoint(const RunCheckpoint& c);
// false with `why`: not a checkpoint, another format version, a damaged or truncated record
bool decode_checkpoint(std::string_view bytes, RunCheckpoint& out, std::string& why);

// Written to DIR/.NAME.tmp, flushed, then renamed to `path`.
bool write_checkpoint_file(const std::string& path, const RunCheckpoint& c, std::string& error);
bool read_checkpoint_file(const std::string& path, RunCheckpoint& out, std::string& why);

// Whether a checkpoint belongs to this scenario and engine: false with `why` naming what differs
// (scenario, site, another engine layout, another model).
bool checkpoint_matches(const CheckpointMeta& m, const Scenario& sc, std::uint64_t model_fingerprint, std::string& why);

// NAME-tSECONDS.ptck with the time zero-padded so that names sort in time order
// ("h01-t000120.000.ptck"); the scenario name's characters other than letters, digits, '-', '_'
// and '.' become '_'.
std::string checkpoint_file_name(const std::string& scenario, Micros t);

}  // namespace planttwin
