// H-01: golden hashes of canonical scenarios. A change of any rule's behaviour changes them; the
// commit that updates a golden hash must say which behaviour changed and why (docs/hash.md).
#include <gtest/gtest.h>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

struct Golden {
  const char* file;
  const char* hash;
};

const Golden kGolden[] = {
    {"scenarios/acceptance/h01-mixed-canonical.yaml", "8d20a03ace8776ccf85a227c1bb929018fd81ad53ac4a5c055d8b8cef72245f7"},
    {"scenarios/acceptance/pl02-gathering-tiers.yaml", "1f9192aaa9668524b97e4646961c9487496e0c122fc07ac6408ef6d838903cef"},
    {"scenarios/acceptance/pl10-duty-ack.yaml", "cac60e652656bd191c1d6d09d6bcca10630d9884a73b98bd29f547001fb7f74c"},
    {"scenarios/acceptance/pl05-stay-inside.yaml", "fdd29a9a6f689082adf2a9f9a35bc0cd699cf2b63f75dc6e79c17b0b003b5b9c"},
};

class GoldenHash : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenHash, H01_CanonicalScenarioKeepsItsHash) {
  const Golden g = GetParam();
  Scenario sc;
  const auto err = load_scenario_file(std::string(PLANTTWIN_SOURCE_DIR) + "/" + g.file, sc);
  ASSERT_FALSE(err.has_value()) << err->to_string();
  RunResult a, b;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, RunOptions{1}, a, error)) << error;
  ASSERT_TRUE(run_scenario(sc, RunOptions{2}, b, error)) << error;
  EXPECT_FALSE(a.canonical_stream.empty());
  EXPECT_EQ(a.canonical_stream, b.canonical_stream);
  EXPECT_EQ(a.hash, g.hash) << "canonical stream now:\n" << a.canonical_stream;
}

INSTANTIATE_TEST_SUITE_P(Canonical, GoldenHash, ::testing::ValuesIn(kGolden));

}  // namespace
}  // namespace planttwin
