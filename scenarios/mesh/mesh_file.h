// A mesh obstacle's model file (site-v1 `obstacles: [{mesh: unit1.glb, ...}]`, docs/site-v1.md)
// read with assimp into plain triangles in the site's frame. The only place that includes assimp;
// the loader (scenarios/loader.cpp) calls it and reports its errors with the site file's line.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "engine/site.h"

namespace planttwin {

// Where a model goes: its own coordinates are scaled, turned up (`up`), turned by `yaw_deg` about
// z (counter-clockwise seen from above, 0 = as drawn), then moved by `at`.
struct MeshPlacement {
  std::array<double, 3> at{0, 0, 0};  // metres, site frame
  double yaw_deg = 0;                  // degrees about +z
  double scale = 1;                    // model units -> metres. Default: 1 (the model is in metres)
  bool y_up = true;                    // the model's up axis is +y (glTF, and assimp's frame for every
                                       // format it converts, e.g. IFC); false: +z. Default: y
};

// Placement limits (docs/site-v1.md): beyond them a value is a mistake (units, a typo), not a plant.
constexpr double kMeshMaxOffset_m = 1e6;  // |at| and the placed mesh, per coordinate: 1,000 km
constexpr double kMeshMinScale = 1e-6, kMeshMaxScale = 1e6;

// Default: 5,000,000 triangles (docs/site-v1.md; raised per obstacle with `max_triangles`).
constexpr std::size_t kMeshMaxTriangles = 5'000'000;

struct MeshReadResult {
  std::string error;                  // "" when read; else what went wrong, with assimp's own message
  std::vector<std::string> files;     // every file assimp opened (the model, then e.g. .bin, .mtl), in order
};

// A model file as read, before placement: welded positions in the model's own frame (assimp's
// floats), triangles, closedness (a property of the topology, so of every placement too) and the
// files opened. Read once per file, placed once per obstacle (the loader's cache: a plant with 40
// copies of one pump model reads it once).
struct MeshModel {
  std::vector<std::array<float, 3>> vertices;
  std::vector<std::array<int, 3>> triangles;
  bool closed = false;
  std::vector<std::string> files;
};
MeshReadResult read_mesh_model(const std::string& path, std::size_t max_triangles, MeshModel& out);
// What read_mesh_model's output depends on besides the file: the reader's version (assimp's, and
// this code's: raise kMeshReaderRevision in mesh_file.cpp when the weld or the closedness rule
// changes). Part of the model cache's key (scenarios/mesh_cache.h).
std::string mesh_reader_version();
// Places a model: vertices into the site frame, a closed mesh wound inward turned outward (judged
// placed), the plan outline. Exactly what read_mesh_file gives for the same file and placement.
void place_mesh(const MeshModel& model, const MeshPlacement& place, ObstacleMesh& out);

// Reads `path` (already resolved) into `out.vertices`, `out.triangles` and `out.closed` (points and
// lines are dropped; polygons are triangulated; node transforms are applied). Identical positions
// are welded so that closedness can be judged; a closed mesh wound inward is turned outward.
// Fails on: a missing or unreadable file, a format assimp cannot read (its message), no
// triangles, non-finite coordinates, more than `max_triangles`.
MeshReadResult read_mesh_file(const std::string& path, const MeshPlacement& place, std::size_t max_triangles,
                              ObstacleMesh& out);

}  // namespace planttwin
