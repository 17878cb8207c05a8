// Recorded positioning (H-02, H-03, PL-01; docs/recorded.md): a vendor's range log (TWR ranges
// and/or TDoA differences) and optionally a truth log, as CSV files a scenario names under
// `recorded:`. Read tolerantly: a bad row is reported with its file, line and field and skipped
// (counted); a non-finite optional column drops only that column. Only a missing file or a bad
// header stops the run.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/time.h"
#include "scenarios/scenario.h"

namespace planttwin {

struct RecordedRange {
  Micros t = 0;
  int tag = -1;     // index into RecordedLog::tags
  int anchor = -1;  // index into Site::anchors
  double d = 0;
  double rx_dbm = 0, fp_dbm = 0;  // 0: not given
  int line = 0;
};

struct RecordedTdoa {
  Micros t = 0;
  int tag = -1;
  int anchor_a = -1, anchor_b = -1;
  double dd = 0;  // d_b - d_a, metres
  int line = 0;
};

struct TruthSample {
  Micros t = 0;
  double x = 0, y = 0, z = 0;
};

struct LogProblem {
  std::string file;
  int line = 0;
  std::string field;  // column name, "" for the whole row
  std::string message;
  std::string to_string() const;  // "file:line: field: message"
};

struct RecordedLog {
  std::vector<std::string> tags;            // tag ids met in the logs, in first-seen order
  std::vector<RecordedRange> ranges;        // sorted by (t, tag, anchor, line)
  std::vector<RecordedTdoa> tdoa;           // sorted by (t, tag, anchor_a, anchor_b, line)
  std::map<std::string, std::vector<TruthSample>> truth;  // tag id -> samples in time order
  std::vector<LogProblem> problems;         // the first kMaxProblems, in file order
  std::uint64_t rows = 0;                   // data rows read (all files)
  std::uint64_t bad_rows = 0;               // skipped
  std::uint64_t dropped_columns = 0;        // optional values dropped (non-finite)
  static constexpr std::size_t kMaxProblems = 100;
};

// Reads the scenario's recorded logs (sc.recorded). Tags must be those the scenario's people carry
// and anchors the site's. false with `error` ("file:line: field: message") when a file cannot be
// read or its header is wrong.
bool read_recorded_log(const Scenario& sc, RecordedLog& out, std::string& error);

// Parses one CSV log from text (for tests and fuzzing); `kind` is "ranges", "tdoa" or "truth".
bool parse_recorded_csv(const Scenario& sc, const std::string& kind, const std::string& file, const std::string& text,
                        RecordedLog& out, std::string& error);

// The truth at t, linearly interpolated between the samples around it; none before the first or
// after the last sample.
struct TruthPoint {
  double x = 0, y = 0, z = 0;
};
std::optional<TruthPoint> truth_at(const std::vector<TruthSample>& samples, Micros t);

}  // namespace planttwin
