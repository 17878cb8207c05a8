#include "viewer/error_stats.h"

#include <algorithm>
#include <cmath>

namespace planttwin::viewer {

void ErrorStats::clear() {
  seen_ = n_ = 0;
  std::fill(mm_.begin(), mm_.end(), 0u);
  over_.clear();
  sum_ = max_ = 0;
}

bool ErrorStats::update(const std::vector<double>& errors) {
  if (errors.size() < seen_) clear();  // a run from the start (a backward jump)
  if (errors.size() == seen_) return false;
  for (std::size_t i = seen_; i < errors.size(); ++i) {
    const double e = std::max(0.0, errors[i]);
    const double b = std::floor(e / kBin);
    if (b < static_cast<double>(kBins)) ++mm_[static_cast<std::size_t>(b)];
    else over_.push_back(e);
    sum_ += e;
    max_ = std::max(max_, e);
    ++n_;
  }
  seen_ = errors.size();
  std::sort(over_.begin(), over_.end());
  return true;
}

double ErrorStats::quantile(double q) const {
  if (n_ == 0) return 0;
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(n_))));
  std::size_t acc = 0;
  for (std::size_t b = 0; b < kBins; ++b) {
    acc += mm_[b];
    if (acc >= rank) return std::min(static_cast<double>(b + 1) * kBin, max_);
  }
  return over_[rank - acc - 1];
}

std::vector<float> ErrorStats::histogram(int bins, double top) const {
  std::vector<float> h(static_cast<std::size_t>(std::max(bins, 1)), 0.0f);
  const double per = top / static_cast<double>(h.size());
  auto put = [&](double value, std::uint32_t count) {
    const double i = per > 0 ? std::floor(value / per) : 0;
    h[static_cast<std::size_t>(std::clamp(i, 0.0, static_cast<double>(h.size() - 1)))] += static_cast<float>(count);
  };
  for (std::size_t b = 0; b < kBins; ++b)
    if (mm_[b]) put((static_cast<double>(b) + 0.5) * kBin, mm_[b]);
  for (double e : over_) put(e, 1);
  return h;
}

}  // namespace planttwin::viewer
