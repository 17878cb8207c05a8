// The viewer benchmarks' crowd: people walking between random points of a 400 m x 300 m plant with
// zones of every risk colour, a building with three storeys, tanks and cameras; some crowds that
// gather. 2,000 people there are about 17,000 per km², a dense crowd.
#pragma once
#include <cstdint>
#include <sstream>
#include <string>

namespace planttwin::bench {

// `walks` go_to commands per person: the first at a random second of the first 20 s, each later
// one at a random second of the next period of `duration_s / walks` (walks = 1: everyone walks
// once, then stands). The same arguments give the same text.
inline std::string crowd_scenario(int people, double noise_sigma = 0, int duration_s = 600, int walks = 1) {
  std::ostringstream o;
  o << R"(scenario: viewer-crowd
site:
  site: crowd plant
  bounds: [[0, 0], [400, 0], [400, 300], [0, 300]]
  buildings:
    - {id: OB, footprint: [[20, 20], [80, 20], [80, 60], [20, 60]], floors: [{id: 1, z: [0, 4]}, {id: 2, z: [4, 8]}, {id: 3, z: [8, 12]}]}
  obstacles:
    - {id: TK-1, shape: cylinder, center: [280, 205], radius: 12, z: [0, 18]}
    - {id: TK-2, shape: cylinder, center: [315, 205], radius: 12, z: [0, 18]}
    - {id: TK-3, shape: cylinder, center: [350, 205], radius: 12, z: [0, 18]}
  zones:
    - {id: TF, name: 罐区, kind: major_hazard, risk: red, polygon: [[250, 180], [380, 180], [380, 280], [250, 280]]}
    - {id: PU, name: 生产装置区, kind: production, risk: orange, polygon: [[130, 150], [230, 150], [230, 260], [130, 260]]}
    - {id: WH, name: 仓库, kind: storage, risk: yellow, polygon: [[120, 20], [180, 20], [180, 70], [120, 70]]}
    - {id: OFFICE, name: 综合办公区, kind: office, risk: blue, polygon: [[10, 10], [110, 10], [110, 80], [10, 80]]}
  cameras:
    - {id: CAM-1, at: [252, 182, 12], yaw_deg: 38, pitch_deg: -12, hfov_deg: 90, vfov_deg: 50, range: 150}
    - {id: CAM-2, at: [132, 152, 10], yaw_deg: 47, pitch_deg: -12, hfov_deg: 90, vfov_deg: 50, range: 150}
  anchors:
    - {id: A1, at: [5, 5, 7]}
    - {id: A2, at: [395, 5, 7]}
    - {id: A3, at: [395, 295, 7]}
    - {id: A4, at: [5, 295, 7]}
)";
  o << "duration: " << duration_s << "s\n";
  if (noise_sigma > 0) o << "positioning: {mode: truth, noise_sigma: " << noise_sigma << "}\n";
  o << "people:\n";
  std::uint64_t x = 20260302;
  auto rnd = [&x](double lo, double hi) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(x >> 11) * 0x1.0p-53;
  };
  const char* cats[] = {"employee", "contractor", "visitor", "driver"};
  for (int i = 0; i < people; ++i)
    o << "  - {id: P" << i << ", category: " << cats[i % 4] << ", tag: T" << i << ", at: [" << rnd(5, 395) << ", " << rnd(5, 295) << "]}\n";
  o << "script:\n";
  for (int i = 0; i < people; ++i)
    o << "  - {t: " << static_cast<int>(rnd(0, 20)) << "s, who: P" << i << ", go_to: [" << rnd(5, 395) << ", " << rnd(5, 295) << "], speed: 1.0}\n";
  const int period = walks > 0 ? duration_s / walks : duration_s;
  for (int w = 1; w < walks; ++w)
    for (int i = 0; i < people; ++i)
      o << "  - {t: " << w * period + static_cast<int>(rnd(0, period)) << "s, who: P" << i << ", go_to: [" << rnd(5, 395) << ", "
        << rnd(5, 295) << "], speed: 1.0}\n";
  return o.str();
}

}  // namespace planttwin::bench
