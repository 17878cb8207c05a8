// The accuracy panel's error statistics (viewer/error_stats.h): incremental, binned to the
// millimetre, and within 1 mm (never below) of the exact nearest-rank quantiles the report uses.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "scenarios/runner.h"
#include "viewer/error_stats.h"

namespace planttwin::viewer {
namespace {

std::vector<double> errors(std::size_t n, std::uint64_t seed) {
  std::vector<double> v;
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(x >> 11) * 0x1.0p-53;
    v.push_back(u < 0.001 ? 100 + 50 * u * 1000 : 0.3 * u * u * 4);  // a few outliers over 100 m
  }
  return v;
}

TEST(ErrorStats, H04_QuantilesWithinAMillimetreOfTheReportsNeverBelow) {
  const std::vector<double> all = errors(50000, 7);
  ErrorStats es;
  // fed in uneven batches, as fixes arrive
  std::vector<double> grown;
  for (std::size_t i = 0; i < all.size(); i += 1 + i % 3777) {
    grown.insert(grown.end(), all.begin() + static_cast<std::ptrdiff_t>(grown.size()), all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + 1)));
    es.update(grown);
  }
  grown = all;
  es.update(grown);
  ASSERT_EQ(es.count(), all.size());
  for (double q : {0.0, 0.01, 0.5, 0.6827, 0.95, 0.99, 0.999, 0.9995, 1.0}) {
    const double exact = quantile_nearest_rank(all, q);
    EXPECT_GE(es.quantile(q), exact) << q;
    EXPECT_LE(es.quantile(q), exact + ErrorStats::kBin) << q;
  }
  double sum = 0, mx = 0;
  for (double e : all) sum += e, mx = std::max(mx, e);
  EXPECT_NEAR(es.mean(), sum / static_cast<double>(all.size()), 1e-9);
  EXPECT_DOUBLE_EQ(es.max(), mx);
  // the histogram counts every error once
  const std::vector<float> h = es.histogram(40, 1.2);
  double total = 0;
  for (float c : h) total += c;
  EXPECT_DOUBLE_EQ(total, static_cast<double>(all.size()));
  EXPECT_GT(h.back(), 0.0f);  // everything above 1.2 m lands in the last bin
}

TEST(ErrorStats, StartsOverWhenTheRunDoes) {
  ErrorStats es;
  std::vector<double> v{0.1, 0.2, 0.3};
  EXPECT_TRUE(es.update(v));
  EXPECT_FALSE(es.update(v));  // nothing new
  v = {0.0504, 0.08};          // a backward jump re-ran the scenario
  EXPECT_TRUE(es.update(v));
  EXPECT_EQ(es.count(), 2u);
  EXPECT_NEAR(es.quantile(0.5), 0.051, 1e-12);  // rounded up to the millimetre
  EXPECT_DOUBLE_EQ(es.quantile(1.0), 0.08);     // never above the largest error
  EXPECT_DOUBLE_EQ(es.max(), 0.08);
}

}  // namespace
}  // namespace planttwin::viewer
