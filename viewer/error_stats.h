// Statistics of positioning errors for the accuracy panel, kept up to date as fixes arrive. A long
// run holds millions of fix errors (2,000 tags for an hour: 7.2 million), so a frame must not copy
// and sort them: new errors go into millimetre bins once, and quantiles and the histogram are read
// from the bins. Quantiles are the nearest-rank value rounded up to the millimetre (never below
// the exact value, at most 1 mm above it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace planttwin::viewer {

class ErrorStats {
 public:
  static constexpr double kBin = 0.001;       // m
  static constexpr std::size_t kBins = 100000;  // [0, 100 m); larger errors are kept exactly

  // Takes the errors not seen yet (`errors` only grows, except when a run starts again: then it
  // starts over). Returns true when something changed.
  bool update(const std::vector<double>& errors);
  void clear();

  std::size_t count() const { return n_; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0; }
  double max() const { return max_; }
  // Nearest rank (the smallest value with at least q of the errors at or below it), rounded up to
  // the millimetre; 0 when empty.
  double quantile(double q) const;
  // Counts in `bins` equal bins over [0, top] (the last one takes everything above).
  std::vector<float> histogram(int bins, double top) const;

 private:
  std::size_t seen_ = 0, n_ = 0;
  std::vector<std::uint32_t> mm_ = std::vector<std::uint32_t>(kBins, 0);
  std::vector<double> over_;  // >= 100 m, exact
  double sum_ = 0, max_ = 0;
};

}  // namespace planttwin::viewer
