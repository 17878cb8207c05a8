// PL-13: every alarm names the cameras that see its spot, from the demo plant's 3D model
// (scenarios/acceptance/pl13-video-linkage.yaml), and only those.
#include <gtest/gtest.h>

#include <map>

#include "scenarios/cameras.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace planttwin {
namespace {

const std::string kSuite = std::string(PLANTTWIN_SOURCE_DIR) + "/scenarios/acceptance/";

TEST(VideoLinkage, PL13_ExactlyTheCamerasWithTheSpotInViewAreCalledUp) {
  Scenario sc;
  const auto err = load_scenario_file(kSuite + "pl13-video-linkage.yaml", sc);
  ASSERT_FALSE(err) << err->message;
  RunResult r;
  std::string error;
  ASSERT_TRUE(run_scenario(sc, RunOptions{}, r, error)) << error;
  std::map<std::string, std::vector<std::string>> by_who_type;
  for (const Alarm& a : r.alarms)
    if (a.type != AlarmType::unacknowledged) by_who_type[a.who.at(0) + "/" + to_string(a.type)] = a.cameras;
  // in the aisle between the tank rows: both aisle cameras; the four corner cameras are behind tanks
  EXPECT_EQ(by_who_type.at("O01/sos"), (std::vector<std::string>{"CAM-TF-AW", "CAM-TF-AE"}));
  // at the bund's south-west corner: below the SW camera's field of view, seen across the farm
  EXPECT_EQ(by_who_type.at("V01/boundary_crossing"), (std::vector<std::string>{"CAM-TF-SE"}));
  // office, floor 2, away from the control room: no camera
  EXPECT_TRUE(by_who_type.at("O02/sos").empty());
  EXPECT_TRUE(r.passed);
}

TEST(VideoLinkage, PL13_CamerasAreNotPartOfTheHashSoAddingCamerasChangesNoRun) {
  Scenario with;
  ASSERT_FALSE(load_scenario_file(kSuite + "pl13-video-linkage.yaml", with));
  Scenario without = with;
  without.site.cameras.clear();
  without.site_sha256.clear();
  RunResult a, b;
  std::string error;
  ASSERT_TRUE(run_scenario(with, RunOptions{}, a, error)) << error;
  ASSERT_TRUE(run_scenario(without, RunOptions{}, b, error)) << error;
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_FALSE(a.alarms.at(0).cameras.empty());
  EXPECT_TRUE(b.alarms.at(0).cameras.empty());
}

TEST(VideoLinkage, PL13_OneVisibilityGridPerSiteFile) {
  Scenario sc;
  ASSERT_FALSE(load_scenario_file(kSuite + "pl13-video-linkage.yaml", sc));
  const auto first = camera_visibility_for(sc.site, sc.site_sha256);
  const auto again = camera_visibility_for(sc.site, sc.site_sha256);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.get(), again.get());
  Site no_cameras = sc.site;
  no_cameras.cameras.clear();
  EXPECT_FALSE(camera_visibility_for(no_cameras, ""));
}

}  // namespace
}  // namespace planttwin
