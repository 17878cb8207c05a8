// Which cameras see which spot (PL-13 camera_call, SO-08). The simulator computes it from the 3D
// model when the site loads (sim/plant: each camera's position, field of view, range and line of
// sight) and hands it to the engine as plain data, so the engine stays free of Bullet.
//
// A grid per floor: each cell holds an index into `sets`, a sorted list of camera indices (site
// order). A spot sees the cameras of the cell that contains it; outside every grid it sees none.
//
// Thread-safety: immutable once built; shared read-only by every engine of a site (EngineModel).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/geometry.h"

namespace planttwin {

struct CameraVisibility {
  struct Grid {
    std::string floor;     // site floor id
    double x0 = 0, y0 = 0; // south-west corner of cell (0, 0), metres
    double cell = 1;       // cell side, metres
    int nx = 0, ny = 0;
    std::vector<std::uint32_t> cells;  // nx * ny, row-major from the south (index = iy * nx + ix)
  };
  std::vector<std::vector<int>> sets{{}};  // sets[0] is the empty set
  std::vector<Grid> grids;

  // Camera indices (site order) that see `p` on `floor`.
  const std::vector<int>& at(std::string_view floor, Vec2 p) const {
    for (const Grid& g : grids) {
      if (g.floor != floor) continue;
      const double fx = std::floor((p.x - g.x0) / g.cell), fy = std::floor((p.y - g.y0) / g.cell);
      if (fx < 0 || fy < 0 || fx >= g.nx || fy >= g.ny) break;
      const std::size_t idx = static_cast<std::size_t>(fy) * static_cast<std::size_t>(g.nx) + static_cast<std::size_t>(fx);
      return sets[g.cells[idx]];
    }
    return sets[0];
  }
};

}  // namespace planttwin
