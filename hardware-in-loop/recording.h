// Session recordings (docs/recording.md): every accepted input with its arrival stamp and its
// device `ts`, the solver's collection-window flushes, and the session's end, after a header that
// embeds the scenario and site texts. Length-prefixed records, each with a CRC-32, so a crash
// (kill -9) mid-write loses at most the last, partial record; the reader keeps the intact prefix
// and says what it dropped.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/time.h"

namespace planttwin::hil {

constexpr char kRecordingMagic[8] = {'P', 'T', 'W', 'I', 'N', 'R', 'E', 'C'};
constexpr std::uint32_t kRecordingVersion = 1;

enum class RecordKind : std::uint8_t { header = 1, input = 2, solve = 3, end = 4, reached = 5 };

// The session as it started: enough to rebuild the same engine anywhere.
struct RecordingHeader {
  std::string product_version;
  std::int64_t start_unix_us = 0;  // wall-clock instant of engine time 0
  int utc_offset_min = 480;        // the site's timezone, used for the engine's calendar
  bool with_script = false;
  Micros solve_window = 0;
  // The live loop fed its inputs in batches (Session::hold_engine): consecutive input records with
  // the same time are one batch, and replay feeds them so. false in recordings made before batches
  // (2026-12-02), replayed record by record as they were fed.
  bool input_batches = false;
  // The mesh obstacles' model files (docs/site-v1.md), embedded so a recording replays anywhere:
  // (path relative to the folder of the file that names the model, bytes).
  std::vector<std::pair<std::string, std::string>> models;
  std::string scenario_path, scenario_sha256, scenario_text;
  std::string site_path, site_sha256, site_text;  // site_path "" when the site is inline
};

struct RecordedInput {
  Micros t = 0;             // engine time: arrival - session start
  std::int64_t ts_ms = 0;   // the device's own time
  std::string topic, body;  // as received
};
struct RecordedSolve {
  Micros t = 0;
  int tag = -1;  // engine tag index whose pending epoch was solved (collection window over)
};

// One record in file order.
struct Record {
  RecordKind kind = RecordKind::input;
  RecordedInput input;  // kind input
  RecordedSolve solve;  // kind solve
  Micros end_t = 0;     // kind end, and kind reached (the session's time reached end_t)
};

// Appends records to a file. Records are buffered and written by flush() (the live loop calls it
// every loop turn), so a record is either in the kernel whole or, after a crash mid-write, a torn
// tail the reader detects.
class RecordingWriter {
 public:
  RecordingWriter() = default;
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // Creates (truncates) the file and writes the magic, version and header record.
  bool open(const std::string& path, const RecordingHeader& h, std::string& error);
  // Continues an existing recording (`live --resume`): cuts the file to its first `keep_bytes`
  // (the intact records, read_recording()'s intact_bytes, less a final `end` record) and appends
  // after them. false with `error` naming the file.
  bool append(const std::string& path, std::uint64_t keep_bytes, std::string& error);
  void input(Micros t, std::int64_t ts_ms, std::string_view topic, std::string_view body);
  void solve(Micros t, int tag);
  void end(Micros t);
  // The session's time reached t (timer turns, about once a second): a killed session replays up
  // to here, script actions included.
  void reached(Micros t);
  // Writes the buffered records; false (and the error) when the disk refuses.
  bool flush();
  const std::string& error() const { return error_; }
  std::uint64_t records() const { return records_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

 private:
  void record(const std::string& payload);
  int fd_ = -1;
  std::string buf_, error_, path_;
  std::uint64_t records_ = 0;
};

struct Recording {
  RecordingHeader header;
  std::vector<Record> records;  // after the header, in file order
  bool ended = false;           // an `end` record was found
  // A torn or corrupt tail: what was dropped and why ("" when the file is intact).
  std::string torn;
  std::uint64_t torn_bytes = 0;
  std::uint64_t intact_bytes = 0;
  std::uint64_t last_record_bytes = 0;  // the size of the last intact record on disk (8 + payload)
  RecordKind last_kind = RecordKind::header;  // the kind of the last intact record
  std::uint64_t record_count = 0;             // intact records after the magic, the header included
};

// Reads a recording. false (with `error`) when the file cannot be used at all (missing, not a
// recording, other version, no intact header); a torn tail is not an error: see Recording::torn.
bool read_recording(const std::string& path, Recording& out, std::string& error);
// The same, as a stream: `out` gets everything but `records`, and `on_record` is called with each
// record after the header in file order (the Record is reused: copy what you keep). Memory is that
// of one record, so a recording of days can be replayed or resumed from. `on_record` returning
// false stops the scan (false, with `error` naming the record's offset). A file still being written
// is read up to its size when the scan began.
bool scan_recording(const std::string& path, Recording& out, const std::function<bool(const Record&)>& on_record,
                    std::string& error);

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of bytes.
std::uint32_t crc32(std::string_view bytes);

}  // namespace planttwin::hil
