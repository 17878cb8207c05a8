// Plant model benchmarks (H-02, H-08; docs/plant.md), on the demo plant
// (scenarios/sites/demo-plant.yaml). The fixed ray set: 4096 anchor -> tag links, each from a
// random tag spot (1.2 m above the ground, uniform over the plant) to a random anchor within 50 m
// of it (the links the radio model traces), seeded.
//
//   BM_PlantRayCast                PlantModel::trace(): one quantized BVH over the whole plant,
//                                  every crossing with its length. Counter rays_per_second (one core).
//   BM_PlantRayCastSeparateShapes  baseline: the same solids as separate convex shapes (box,
//                                  Z-cylinder, convex hull for wall panels and slabs) in a
//                                  btCollisionWorld, btCollisionWorld::rayTest with an all-hits
//                                  callback (first hit per object only: less than trace() gives).
//                                  primitives:1 boxes and cylinders as btBoxShape / btCylinderShapeZ,
//                                  primitives:0 every solid a btConvexHullShape of its vertices.
//   BM_PlantTraceBatch             trace_batch() over the ray set; arg = threads (wall clock).
//   BM_PlantClear                  PlantModel::clear(): blocked or not, stops at the first face.
//   BM_CameraVisibilityBuild       build_camera_visibility() over the whole demo plant, 1 m cells,
//                                  every floor; arg = threads.
#include <benchmark/benchmark.h>
#include <btBulletCollisionCommon.h>

#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "scenarios/loader.h"
#include "sim/plant/camera_visibility.h"
#include "sim/plant/plant_model.h"

using namespace planttwin;

namespace {

const Site& demo() {
  static const Site site = [] {
    const std::filesystem::path file =
        std::filesystem::path(__FILE__).parent_path().parent_path() / "scenarios" / "sites" / "demo-plant.yaml";
    Site s;
    if (const auto err = load_site_file(file.string(), s)) throw std::runtime_error(err->to_string());
    return s;
  }();
  return site;
}

const PlantModel& demo_model() {
  static const std::unique_ptr<PlantModel> m = [] {
    std::string err;
    auto p = PlantModel::build(demo(), err);
    if (!p) throw std::runtime_error(err);
    return p;
  }();
  return *m;
}

const std::vector<std::pair<Vec3, Vec3>>& links() {
  static const std::vector<std::pair<Vec3, Vec3>> v = [] {
    const Site& s = demo();
    std::mt19937_64 rng(20261128);
    std::uniform_real_distribution<double> x(0, 400), y(0, 300);
    std::vector<std::pair<Vec3, Vec3>> out;
    while (out.size() < 4096) {
      const Vec3 tag{x(rng), y(rng), 1.2};
      std::vector<const Anchor*> near;
      for (const Anchor& a : s.anchors) {
        const double dx = a.at[0] - tag.x, dy = a.at[1] - tag.y, dz = a.at[2] - tag.z;
        if (dx * dx + dy * dy + dz * dz <= 50.0 * 50.0) near.push_back(&a);
      }
      if (near.empty()) continue;
      const Anchor* a = near[std::uniform_int_distribution<std::size_t>(0, near.size() - 1)(rng)];
      out.push_back({{a->at[0], a->at[1], a->at[2]}, tag});
    }
    return out;
  }();
  return v;
}

void BM_PlantRayCast(benchmark::State& state) {
  const PlantModel& m = demo_model();
  const auto& segs = links();
  std::vector<Crossing> out;
  std::size_t blocked = 0;
  for (auto _ : state) {
    blocked = 0;
    for (const auto& [a, b] : segs) {
      m.trace(a, b, out);
      blocked += !out.empty();
    }
    benchmark::DoNotOptimize(blocked);
  }
  const double rays = static_cast<double>(state.iterations()) * static_cast<double>(segs.size());
  state.counters["rays_per_second"] = benchmark::Counter(rays, benchmark::Counter::kIsRate);
  state.counters["blocked_share"] = static_cast<double>(blocked) / static_cast<double>(segs.size());
  state.counters["triangles"] = static_cast<double>(m.mesh().triangles.size());
  state.counters["solids"] = static_cast<double>(m.mesh().solids.size());
}
BENCHMARK(BM_PlantRayCast)->Unit(benchmark::kMillisecond);

void BM_PlantClear(benchmark::State& state) {
  const PlantModel& m = demo_model();
  const auto& segs = links();
  const std::vector<char> all(m.materials().size(), 1);
  for (auto _ : state) {
    std::size_t clear = 0;
    for (const auto& [a, b] : segs) clear += m.clear(a, b, all);
    benchmark::DoNotOptimize(clear);
  }
  state.counters["rays_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(segs.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PlantClear)->Unit(benchmark::kMillisecond);

// The baseline world: one collision object per solid of the plant mesh.
struct SeparateShapes {
  btDefaultCollisionConfiguration config;
  btCollisionDispatcher dispatcher{&config};
  btDbvtBroadphase broadphase;
  btCollisionWorld world{&dispatcher, &broadphase, &config};
  std::vector<std::unique_ptr<btCollisionShape>> shapes;
  std::vector<std::unique_ptr<btCollisionObject>> objects;

  // primitives: boxes and cylinders as Bullet's own shapes; otherwise every solid a convex hull
  SeparateShapes(const Site& site, const PlantMesh& mesh, bool primitives) {
    auto add = [&](std::unique_ptr<btCollisionShape> shape, const btVector3& at) {
      auto o = std::make_unique<btCollisionObject>();
      btTransform t;
      t.setIdentity();
      t.setOrigin(at);
      o->setWorldTransform(t);
      o->setCollisionShape(shape.get());
      world.addCollisionObject(o.get());
      shapes.push_back(std::move(shape));
      objects.push_back(std::move(o));
    };
    auto f = [](double v) { return static_cast<btScalar>(v); };
    std::vector<char> primitive(mesh.solids.size(), 0);
    for (std::size_t s = 0; s < mesh.solids.size(); ++s)
      for (const Obstacle& o : site.obstacles) {
        if (!primitives || o.id != mesh.solids[s].name || o.shape == Obstacle::Shape::mesh) continue;
        primitive[s] = 1;
        if (o.shape == Obstacle::Shape::box) {
          const btVector3 half(f((o.max[0] - o.min[0]) / 2), f((o.max[1] - o.min[1]) / 2), f((o.max[2] - o.min[2]) / 2));
          add(std::make_unique<btBoxShape>(half),
              btVector3(f((o.max[0] + o.min[0]) / 2), f((o.max[1] + o.min[1]) / 2), f((o.max[2] + o.min[2]) / 2)));
        } else {
          add(std::make_unique<btCylinderShapeZ>(btVector3(f(o.radius), f(o.radius), f((o.z1 - o.z0) / 2))),
              btVector3(f(o.center.x), f(o.center.y), f((o.z0 + o.z1) / 2)));
        }
      }
    // walls and slabs: convex hulls of their vertices
    std::vector<std::vector<btVector3>> pts(mesh.solids.size());
    for (std::size_t t = 0; t < mesh.triangles.size(); ++t) {
      const std::size_t s = static_cast<std::size_t>(mesh.triangle_solid[t]);
      if (primitive[s]) continue;
      for (int v : mesh.triangles[t]) {
        const auto& p = mesh.vertices[static_cast<std::size_t>(v)];
        pts[s].push_back(btVector3(f(p[0]), f(p[1]), f(p[2])));
      }
    }
    for (auto& p : pts) {
      if (p.empty()) continue;
      auto hull = std::make_unique<btConvexHullShape>();
      for (const btVector3& v : p) hull->addPoint(v, false);
      hull->recalcLocalAabb();
      hull->setMargin(0);
      add(std::move(hull), btVector3(0, 0, 0));
    }
    world.updateAabbs();
  }
};

void BM_PlantRayCastSeparateShapes(benchmark::State& state) {
  static SeparateShapes primitives(demo(), demo_model().mesh(), true), hulls(demo(), demo_model().mesh(), false);
  SeparateShapes& plant = state.range(0) ? primitives : hulls;
  const auto& segs = links();
  std::size_t blocked = 0;
  for (auto _ : state) {
    blocked = 0;
    for (const auto& [a, b] : segs) {
      const btVector3 from(static_cast<btScalar>(a.x), static_cast<btScalar>(a.y), static_cast<btScalar>(a.z));
      const btVector3 to(static_cast<btScalar>(b.x), static_cast<btScalar>(b.y), static_cast<btScalar>(b.z));
      btCollisionWorld::AllHitsRayResultCallback cb(from, to);
      plant.world.rayTest(from, to, cb);
      blocked += cb.hasHit();
    }
    benchmark::DoNotOptimize(blocked);
  }
  const double rays = static_cast<double>(state.iterations()) * static_cast<double>(segs.size());
  state.counters["rays_per_second"] = benchmark::Counter(rays, benchmark::Counter::kIsRate);
  state.counters["blocked_share"] = static_cast<double>(blocked) / static_cast<double>(segs.size());
  state.counters["objects"] = static_cast<double>(plant.objects.size());
}
BENCHMARK(BM_PlantRayCastSeparateShapes)->ArgName("primitives")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_PlantTraceBatch(benchmark::State& state) {
  const PlantModel& m = demo_model();
  const auto& segs = links();
  std::vector<std::vector<Crossing>> out;
  for (auto _ : state) {
    m.trace_batch(segs, out, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["rays_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(segs.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PlantTraceBatch)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CameraVisibilityBuild(benchmark::State& state) {
  const PlantModel& m = demo_model();
  const int threads = static_cast<int>(state.range(0));
  std::size_t cells = 0;
  for (auto _ : state) {
    const CameraVisibility v = build_camera_visibility(demo(), m, {}, threads);
    cells = 0;
    for (const auto& g : v.grids) cells += g.cells.size();
    benchmark::DoNotOptimize(v.sets.data());
  }
  state.counters["cells"] = static_cast<double>(cells);
}
BENCHMARK(BM_CameraVisibilityBuild)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
