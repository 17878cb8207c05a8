// Track buckets: one person's fixes in one time bucket, delta-encoded and compressed
// (docs/history.md, "Track encoding, format 1"). Lossless at 1 ms and 1 cm.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace planttwin::history {

constexpr std::uint8_t kTrackFormat = 1;

struct TrackPoint {
  std::int64_t t_ms = 0;
  std::int32_t x_cm = 0, y_cm = 0, z_cm = 0;
  std::int32_t floor = 0;  // floor code in the store's floor table (0: no floor)
  bool operator==(const TrackPoint&) const = default;
};

// Encodes points (in the caller's order; any times and positions) into a blob. compress: zstd
// when this build has it, else stored raw (flagged in the blob). smallest: try both xy modes and
// keep the smaller blob (twice the work; the store does it when a bucket seals).
std::string encode_track(std::int64_t bucket_start_ms, const std::vector<TrackPoint>& points, bool compress, bool smallest = true);
// Appends the decoded points to out; false when the blob is malformed or of an unknown format.
bool decode_track(std::int64_t bucket_start_ms, std::string_view blob, std::vector<TrackPoint>& out);
// A flush's log row (table track_log, docs/history.md "Schema 1"): the fixes one flush made
// durable, grouped by person and bucket. The groups, each: varint person code, varint zz(bucket
// start), varint byte length, then a track blob of that length (encode_track, uncompressed); the
// row's data is that sequence packed as a track blob's payload is (format byte, flags, zstd).
struct LogGroup {
  int person = 0;
  std::int64_t bucket_start_ms = 0;
  std::string_view blob;  // into the unpacked row
};
void append_log_group(std::string& groups, int person, std::int64_t bucket_start_ms, const std::vector<TrackPoint>& points);
std::string pack_log_row(const std::string& groups, bool compress);
// The row's groups, in order (views into `unpacked`, which the call fills); false when it is
// malformed (bad packing, a group cut short, a person code out of range, bytes left over).
bool split_log_row(std::string_view row, std::string& unpacked, std::vector<LogGroup>& out);
// True when this build compresses with zstd.
bool have_zstd();

}  // namespace planttwin::history
