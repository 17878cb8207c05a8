// Regression tests from fuzzing (issue 17; docs/fuzzing.md): inputs the harnesses found, kept in
// the normal suite. Under scripts/sanitize (UBSan) they also catch the undefined behaviour itself.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "hardware-in-loop/omlox/omlox_channel.h"
#include "hardware-in-loop/wire.h"
#include "scenarios/runner.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

// H-03 (fuzz_omlox, crash-5d602ae7): a Location whose position.type is an array made
// location_to_fix throw nlohmann's type_error out of the omlox channel; it must refuse it.
TEST(FuzzRegression, H03_OmloxPositionTypeOfTheWrongTypeIsRefusedNotThrown) {
  Site site;
  omlox::GeoToSite geo(site);
  std::string body, reason, detail;
  const auto loc = nlohmann::json::parse(R"({"position":{"type":[655.5,31.2]},"provider_id":"T1","crs":"EPSG:4326"})");
  bool ok = true;
  EXPECT_NO_THROW(ok = omlox::location_to_fix(loc, "", 0, geo, body, reason, detail));
  EXPECT_FALSE(ok);
  EXPECT_EQ(reason, "bad_field") << detail;
}

// H-03, PL-01 (fuzz_live_wire, crash-caf1c87c): a finite but absurd fix (x = 7.8e36 m) reached the
// engine's zone grid, which converted the out-of-range cell index to int (undefined behaviour).
// The fix is taken and the person is in no zone.
TEST(FuzzRegression, H03_PL01_AFixFarOutsideThePlantIsInNoZone) {
  const Scenario sc = load_live_scenario();
  auto site = std::make_shared<const Site>(sc.site);
  Engine engine(make_engine_setup(sc, site));
  DecodeContext ctx{&engine, site.get(), 1'800'000'000'000};
  Decoded d;
  DecodeError err;
  ASSERT_TRUE(decode("fix", R"({"v":1,"tag":"T1","ts":1800,"x":7777777777777777777777777777777777712.5,"y":60.25})", ctx, d, err))
      << err.reason << ": " << err.detail;
  d.input.t = kSecond;
  engine.submit(d.input);
  engine.advance_to(5 * kSecond);
  for (int z = 0; z < static_cast<int>(sc.site.zones.size()); ++z) EXPECT_EQ(engine.zone_count(z), 0) << sc.site.zones[z].id;
}

}  // namespace
}  // namespace planttwin::hil::test
