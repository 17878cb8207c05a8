// The plant's static 3D model (H-02): every building wall, floor slab and obstacle of a site as
// closed solids in ONE quantized BVH triangle mesh (Bullet), and line of sight through it.
//
// Thread safety: a built PlantModel is immutable. trace() walks the BVH through
// btBvhTriangleMeshShape::performRaycast with a callback on the caller's stack, which only reads
// the tree and the vertex arrays; no btCollisionWorld, no shared scratch. So any number of threads
// may trace at once, whether or not Bullet was built with BT_THREADSAFE.
//
// Determinism: inside-lengths are recomputed in double precision from each hit triangle's plane,
// and crossings are sorted by (entry distance, solid index), so the result of one segment does not
// depend on the BVH's visiting order; trace_batch() merges by index, never by thread.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/site.h"
#include "sim/los.h"
#include "sim/plant/model_cache.h"

namespace planttwin {

struct PlantOptions {
  int cylinder_sides = 32;        // tessellation of tanks and columns. Default: 32
  double slab_thickness_m = 0.2;  // floor slabs, below each storey's z0 (not the lowest). Default: 0.2 m
  // An open mesh obstacle (not watertight, engine/site.h ObstacleMesh::closed) has no inside: each
  // of its surfaces a path crosses counts as a sheet this thick. Default: 0.01 m
  double open_mesh_sheet_m = 0.01;
  // Where built BVHs are kept between runs (sim/plant/model_cache.h; docs/plant.md "Model cache").
  // Default: no folder, nothing written. `planttwin` sets it (--model-cache).
  BvhCacheOptions bvh_cache;
};

// One closed solid of the mesh: a wall panel, a slab, an obstacle.
struct PlantSolid {
  std::string name;   // obstacle id, or "BUILDING/wall-3" (footprint edge 3), "BUILDING/slab-2" (floor 2)
  int material = 0;   // index into PlantModel::materials()
  bool open = false;  // an open mesh obstacle: surfaces, no inside (PlantOptions::open_mesh_sheet_m)
  bool prism = false; // one prism over a convex outline (boxes, tanks, wall panels, some slabs): SolidShape::exact
};

// The triangle mesh as plain data (for viewers, the benchmark baseline and tests). Triangles wind
// counter-clockwise seen from outside, so (b - a) x (c - a) points out of the solid.
struct PlantMesh {
  std::vector<std::array<double, 3>> vertices;  // metres
  std::vector<std::array<int, 3>> triangles;    // indices into vertices
  std::vector<int> triangle_solid;              // per triangle: index into solids
  std::vector<PlantSolid> solids;
};

// Builds the closed solids of a site (no Bullet): walls of `wall_thickness` centred on each
// footprint edge, mitred at the corners, one panel per edge over each run of contiguous storeys;
// slabs inside the walls at each storey's z0 except the lowest; boxes; cylinders as prisms whose
// cross-section has the circle's area; mesh obstacles as their triangles (one solid each, open when
// the mesh is not watertight). Returns "" or an error naming the building or obstacle (an
// unknown material).
std::string build_plant_mesh(const Site& site, const PlantOptions& opt, PlantMesh& out);

class PlantModel final : public LineOfSight {
 public:
  // nullptr and `error` set when the site cannot be modelled (e.g. "obstacle TK-1: unknown material
  // 'titanium' (known: concrete, steel, brick, glass, wood)").
  static std::unique_ptr<PlantModel> build(const Site& site, std::string& error, const PlantOptions& opt = {});
  ~PlantModel() override;
  PlantModel(const PlantModel&) = delete;
  PlantModel& operator=(const PlantModel&) = delete;

  // concrete, steel, brick, glass, wood, then any other name in the site's `materials`, in key order.
  const std::vector<std::string>& materials() const override { return materials_; }
  // Index of a material name; -1 when unknown.
  int material_index(const std::string& name) const;

  // Every solid the segment a -> b passes through with the length inside it, sorted by where the
  // path enters it (a segment that starts inside a solid enters it at a). Overlapping solids give
  // one crossing each. Empty: line of sight.
  void trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out) const override;

  // trace() for many segments on `threads` threads (split by index, merged by index: the result
  // never depends on the thread count). out[i] belongs to segments[i].
  void trace_batch(std::span<const std::pair<Vec3, Vec3>> segments, std::vector<std::vector<Crossing>>& out,
                   int threads) const;

  // True when no solid whose material has blocks[material] != 0 lies on the segment (a face hit
  // strictly between the ends). Faster than trace(): stops at the first blocking face.
  // blocks.size() must be materials().size().
  bool clear(const Vec3& a, const Vec3& b, const std::vector<char>& blocks) const;

  // Which walk of the BVH trace() and clear() use: `wide` (the default: Bullet's tree collapsed
  // to four boxes per node with exact bounds, four slab tests at once; clear() stops at the first
  // blocking face), `planttwin` (Bullet's quantized tree, walked in integers first) or Bullet's own
  // performRaycast. All give the same crossings and answers (the differential test in
  // tests/plant/plant_walk_test.cpp) near the origin; `every`
  // gives every triangle to Bullet's face test (slow: the tests' reference anywhere, since Bullet's
  // own walk loses faces tens of kilometres out, where its single-precision boxes are coarse).
  enum class Walk { wide, planttwin, bullet, every };
  void trace(const Vec3& a, const Vec3& b, std::vector<Crossing>& out, Walk walk) const;
  bool clear(const Vec3& a, const Vec3& b, const std::vector<char>& blocks, Walk walk) const;

  const PlantMesh& mesh() const { return mesh_; }
  // True when the BVH was read from PlantOptions::bvh_cache instead of built.
  bool bvh_from_cache() const { return bvh_from_cache_; }
  // Every solid as a vertical prism (convex hull of its vertices in plan, its height range),
  // indexed like mesh().solids and Crossing::solid.
  const std::vector<SolidShape>& shapes() const override { return shapes_; }

 private:
  PlantModel() = default;
  struct Bullet;  // the BVH and the arrays it points into
  std::vector<std::string> materials_;
  PlantMesh mesh_;
  std::vector<SolidShape> shapes_;
  double sheet_m_ = 0.01;                      // PlantOptions::open_mesh_sheet_m
  std::vector<std::array<double, 4>> planes_;  // per triangle: outward unit normal, offset (n.p = d)
  std::unique_ptr<Bullet> bt_;
  bool bvh_from_cache_ = false;
  std::uint64_t id_ = 0;  // this model among every one built in the process (clear()'s remembered faces)
};

// The site's materials in PlantModel order (see materials()).
std::vector<std::string> plant_material_names(const Site& site);

// The walking surface of a floor (metres): a building storey's z0; an outdoor band's z0 when it
// is above ground, else the ground (0). Same rule as the scenario driver (scenarios/driver.h).
double plant_floor_surface(const Site& site, const std::string& floor);

}  // namespace planttwin
