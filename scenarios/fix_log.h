// What every run says about its fixes (H-02, H-05, PL-01): the fix stream's own hash (`fix_hash`,
// beside the alarm hash), the optional `fixes.csv`, and the accuracy figures against truth. Used by
// the runner in every positioning mode and by live sessions and replays (docs/report.md,
// docs/hash.md). Memory does not grow with the number of fixes: the hash is a chain, the CSV is
// streamed to disk, the errors go into fixed-bin histograms.
#pragma once
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/time.h"
#include "sim/radio/positioning.h"

namespace planttwin {

class ByteWriter;
class ByteReader;

// Accuracy of fixes against truth, horizontal (2D) or 3D, metres. Quantiles from a 1 mm histogram
// over [0, 20) m (values beyond kept exactly); mean, RMSE and max exact.
struct AccuracyFigures {
  std::uint64_t n = 0;
  double mean = 0, rmse = 0, median = 0, cdf68 = 0, cdf95 = 0, p95 = 0, max = 0;
  // the error at each fraction (k + 1) / kAccuracyCurvePoints, k = 0 .. kAccuracyCurvePoints - 1,
  // nearest rank: the CDF curve of report.html (not in report.json); empty when n = 0
  std::vector<double> curve;
};
constexpr int kAccuracyCurvePoints = 200;
// The curve of AccuracyFigures from an exact sample (any order).
std::vector<double> accuracy_curve(std::vector<double> errors);

class AccuracyAccumulator {
 public:
  void add(double e);
  std::uint64_t n() const { return hist_.n(); }
  AccuracyFigures figures() const;
  void save(ByteWriter& w) const;
  bool load(ByteReader& r);

 private:
  ErrorHistogram hist_{0.0, 20.0, 0.001};
  double sumsq_ = 0, max_ = 0;
};

// One published fix: `t` is the measurement time (not when the fix became available).
struct FixRow {
  Micros t = 0;
  std::string tag;
  double x = 0, y = 0, z = 0;
  std::string floor;
  std::optional<double> error_2d, error_3d;  // against truth, when there is truth
};

// The fix stream of a run: its hash chain and, when asked, fixes.csv.
//   fix_hash = h_n, h_0 = 32 zero bytes, h_k = SHA-256(h_{k-1} || line_k), line_k =
//   "<t µs>,<tag>,<x mm>,<y mm>,<z mm>,<floor>\n" (coordinates rounded to whole millimetres)
// in the order the fixes are published. Reported as 64 hex digits (docs/hash.md).
class FixLog {
 public:
  FixLog();
  ~FixLog();
  FixLog(const FixLog&) = delete;
  FixLog& operator=(const FixLog&) = delete;

  // Streams fixes.csv to `path` (header `t,tag,x,y,z,floor,error_2d,error_3d`). On resume, pass
  // the byte count the checkpoint recorded: the file is cut back to it and continued. false with
  // `error` naming the file when it cannot be written (or is shorter than `resume_bytes`).
  bool open_csv(const std::string& path, std::string& error, std::optional<std::uint64_t> resume_bytes = std::nullopt);
  void add(const FixRow& f);
  // Flushes fixes.csv; false with `error` when a write failed.
  bool close(std::string& error);

  std::uint64_t count() const { return count_; }
  std::string hash_hex() const;
  // Checkpoints: the chain, the count and the CSV's length so far.
  void save(ByteWriter& w);
  bool load(ByteReader& r, std::uint64_t& csv_bytes);

 private:
  unsigned char chain_[32] = {};
  // SHA-256 fetched once and one digest context reused for every line (a one-shot EVP_Digest
  // fetches the algorithm and makes a context per call: most of the cost of a fix in a long run)
  struct Digest;
  std::unique_ptr<Digest> digest_;
  std::uint64_t count_ = 0;
  std::unique_ptr<std::ofstream> csv_;
  std::string csv_path_;
  std::string line_;
};

}  // namespace planttwin
