// `planttwin check` with a 3D model (issue 15): the imported demo plant with one 100,008-triangle
// mesh obstacle (a steel frame of 8,334 members over the process unit, written as OBJ into the
// temporary folder) against the demo plant, each as the command does it: load the site (assimp
// reads the model), build the plant model, check every high-risk zone on one thread. The figure to
// compare is `per_zone` (wall time per high-risk zone); the target is within 2x of the demo's. `BM_LoadMeshSite100k`: the load and build alone.
// `...Cached`: the same with the model cache (sim/plant/model_cache.h, scenarios/mesh_cache.h) filled
// by one untimed load first, as every `planttwin check` of a site after its first. Compare
// interleaved (--benchmark_repetitions=5 --benchmark_enable_random_interleaving=true): in a
// sequential run the first benchmark runs about 8 % slow (docs/plant.md "Speed").
//   build/bench/planttwin_bench --benchmark_filter='BM_Check(DemoPlant|MeshSite100k)'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "scenarios/loader.h"
#include "scenarios/mesh_cache.h"
#include "sim/plant/coverage.h"
#include "sim/plant/plant_model.h"

using namespace planttwin;

namespace {

const std::filesystem::path kSites = std::filesystem::path(PLANTTWIN_SOURCE_DIR) / "scenarios" / "sites";

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A box as 8 OBJ vertices and 12 outward triangles, after `base` vertices already written.
void obj_box(std::ostream& o, int base, double x0, double y0, double z0, double x1, double y1, double z1) {
  for (int i = 0; i < 8; ++i) o << "v " << ((i & 1) ? x1 : x0) << " " << ((i & 2) ? y1 : y0) << " " << ((i & 4) ? z1 : z0) << "\n";
  static const int t[12][3] = {{0, 2, 3}, {0, 3, 1}, {4, 5, 7}, {4, 7, 6}, {0, 1, 5}, {0, 5, 4},
                               {2, 6, 7}, {2, 7, 3}, {0, 4, 6}, {0, 6, 2}, {1, 3, 7}, {1, 7, 5}};
  for (const auto& f : t) o << "f " << base + f[0] + 1 << " " << base + f[1] + 1 << " " << base + f[2] + 1 << "\n";
}

// A pipe of n sides along x (or a vertical vessel along z) as OBJ: 4n - 4 triangles, outward.
void obj_pipe(std::ostream& o, int base, bool along_x, double x0, double x1, double c1, double c2, double r, int n) {
  for (int e = 0; e < 2; ++e)
    for (int i = 0; i < n; ++i) {
      const double a = 2 * 3.14159265358979323846 * i / n, u = c1 + r * std::cos(a), w = c2 + r * std::sin(a);
      const double s = e ? x1 : x0;
      if (along_x) o << "v " << s << " " << u << " " << w << "\n";  // ring in the y-z plane
      else o << "v " << u << " " << w << " " << s << "\n";           // ring in the x-y plane
    }
  // the ring runs counter-clockwise seen from +z (vessel) or from +x (pipe): end 0 faces backwards
  for (int i = 1; i + 1 < n; ++i) {
    o << "f " << base + 1 << " " << base + i + 2 << " " << base + i + 1 << "\n";
    o << "f " << base + n + 1 << " " << base + n + i + 1 << " " << base + n + i + 2 << "\n";
  }
  for (int j = 0; j < n; ++j) {
    const int k = (j + 1) % n;
    o << "f " << base + j + 1 << " " << base + k + 1 << " " << base + n + k + 1 << "\n";
    o << "f " << base + j + 1 << " " << base + n + k + 1 << " " << base + n + j + 1 << "\n";
  }
}

// The imported demo plant with `model` (an OBJ, z up, metres) placed at `at` as PU-MODEL.
std::string site_with(const std::string& name, const std::string& obj_text, const std::string& at) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "planttwin_bench_mesh";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (name + ".obj")) << obj_text;
  std::string site = read_text(kSites / "demo-plant-imported.yaml");
  const std::string key = "obstacles:\n";
  const auto pos = site.find(key);
  if (pos == std::string::npos) throw std::runtime_error("demo-plant-imported.yaml: no obstacles list");
  site.insert(pos + key.size(), "  - {id: PU-MODEL, mesh: " + name + ".obj, up: z, material: steel, at: " + at + "}\n");
  std::ofstream(dir / (name + ".yaml")) << site;
  return (dir / (name + ".yaml")).string();
}

// The same plant with a piping model of 100,068 triangles: 8 pipe racks across the unit, each two
// tiers (z 5 and 7 m) of 50 pipes 80 m long (32 sides, 0.1 m across), and 7 vessels 3 m across.
std::string pipes_site() {
  static const std::string path = [] {
    std::ostringstream o;
    o << "# pipe racks and vessels (z up, metres)\n";
    int v = 0;
    for (int rack = 0; rack < 8; ++rack)
      for (int tier = 0; tier < 2; ++tier)
        for (int p = 0; p < 50; ++p, v += 64) obj_pipe(o, v, true, 0, 80, 12.0 * rack + 0.12 * p, 5 + 2 * tier, 0.05, 32);
    for (int k = 0; k < 7; ++k, v += 64) obj_pipe(o, v, false, 0, 20, 6 + 11.0 * k, 100, 1.5, 32);
    return site_with("pu-pipes", o.str(), "[140, 155, 0]");
  }();
  return path;
}

// The imported demo plant plus the frame over its process unit (PU: x 130-230, y 150-260), once.
std::string mesh_site() {
  static const std::string path = [] {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "planttwin_bench_mesh";
    std::filesystem::create_directories(dir);
    std::ofstream obj(dir / "pu-frame.obj");
    obj << "# a steel frame: 24 x 24 columns of 14 storeys, 0.3 m members every 3.5 m (z up)\n";
    int v = 0, boxes = 0;
    for (int k = 0; k < 14; ++k)
      for (int j = 0; j < 24; ++j)
        for (int i = 0; i < 24; ++i) {
          const double x = 3.5 * i, y = 3.5 * j, z = 1.5 * k;
          obj_box(obj, v, x, y, z, x + 0.3, y + 0.3, z + 1.2);
          v += 8, ++boxes;
        }
    for (int i = 0; boxes < 8334; ++i, ++boxes, v += 8) obj_box(obj, v, 0.5 * i, -2, 0, 0.5 * i + 0.3, -1.7, 3);
    obj.close();
    std::string site = read_text(kSites / "demo-plant-imported.yaml");
    const std::string key = "obstacles:\n";
    const auto at = site.find(key);
    if (at == std::string::npos) throw std::runtime_error("demo-plant-imported.yaml: no obstacles list");
    site.insert(at + key.size(), "  - {id: PU-FRAME, mesh: pu-frame.obj, up: z, material: steel, at: [138, 160, 0]}\n");
    std::ofstream(dir / "site.yaml") << site;
    return (dir / "site.yaml").string();
  }();
  return path;
}

// The model cache's folder for the *Cached benchmarks (emptied once per process): the first
// iteration's build fills it, as a user's first `planttwin check` of a site does.
PlantOptions cached_options() {
  static const std::filesystem::path dir = [] {
    const auto d = std::filesystem::temp_directory_path() / "planttwin_bench_mesh" / "model-cache";
    std::filesystem::remove_all(d);
    return d;
  }();
  PlantOptions o;
  o.bvh_cache.dir = dir.string();
  return o;
}
// the loader's side of the model cache (assimp skipped), on for the *Cached benchmarks only
struct MeshCacheOn {
  MeshCacheOn() {
    MeshCacheOptions m;
    m.dir = cached_options().bvh_cache.dir;
    set_mesh_cache(m);
  }
  ~MeshCacheOn() { set_mesh_cache({}); }
};

void run_check(benchmark::State& state, const std::string& file, const PlantOptions& plant = {}) {
  int zones = 0;
  std::size_t triangles = 0;
  double load_s = 0, check_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Site site;
    if (const auto err = load_site_file(file, site)) throw std::runtime_error(err->to_string());
    std::string error;
    const auto model = PlantModel::build(site, error, plant);
    if (!model) throw std::runtime_error(error);
    const auto t1 = std::chrono::steady_clock::now();
    const CoverageReport rep = check_coverage(site, *model, {}, CoverageOptions{}, 1);
    check_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    load_s += std::chrono::duration<double>(t1 - t0).count();
    benchmark::DoNotOptimize(rep.pass);
    zones = static_cast<int>(rep.zones.size());
    triangles = model->mesh().triangles.size();
  }
  // the two phases: loading the site and building the BVH (once per run), and the zones' check
  const double it = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["load_build_ms"] = 1e3 * load_s / it;
  state.counters["check_ms_per_zone"] = 1e3 * check_s / it / std::max(zones, 1);
  state.counters["zones"] = zones;
  state.counters["triangles"] = static_cast<double>(triangles);
  // wall time per high-risk zone (printed in seconds with an SI prefix: 27.2m = 27.2 ms)
  state.counters["per_zone"] =
      benchmark::Counter(std::max(zones, 1), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// the mesh site's load (assimp) and plant model build alone, without the check
void BM_LoadMeshSite100k(benchmark::State& state) {
  const std::string file = mesh_site();
  for (auto _ : state) {
    Site site;
    if (const auto err = load_site_file(file, site)) throw std::runtime_error(err->to_string());
    std::string error;
    const auto model = PlantModel::build(site, error);
    benchmark::DoNotOptimize(model.get());
  }
}

void BM_CheckDemoPlant(benchmark::State& state) { run_check(state, (kSites / "demo-plant.yaml").string()); }
void BM_CheckImportedDemoPlant(benchmark::State& state) { run_check(state, (kSites / "demo-plant-imported.yaml").string()); }
void BM_CheckMeshSite100k(benchmark::State& state) { run_check(state, mesh_site()); }
void BM_CheckMeshSite100kPipes(benchmark::State& state) { run_check(state, pipes_site()); }
// the same with the model cache (planttwin check's default): every run after a site's first
void warm(const std::string& file) {
  Site site;
  if (const auto err = load_site_file(file, site)) throw std::runtime_error(err->to_string());
  std::string error;
  if (!PlantModel::build(site, error, cached_options())) throw std::runtime_error(error);
}
void BM_LoadMeshSite100kCached(benchmark::State& state) {
  const MeshCacheOn on;
  const std::string file = mesh_site();
  warm(file);
  for (auto _ : state) {
    Site site;
    if (const auto err = load_site_file(file, site)) throw std::runtime_error(err->to_string());
    std::string error;
    const auto model = PlantModel::build(site, error, cached_options());
    if (!model->bvh_from_cache()) throw std::runtime_error("BM_LoadMeshSite100kCached: the tree was not read from the cache");
    benchmark::DoNotOptimize(model.get());
  }
}
void BM_CheckDemoPlantCached(benchmark::State& state) {
  const MeshCacheOn on;
  warm((kSites / "demo-plant.yaml").string());
  run_check(state, (kSites / "demo-plant.yaml").string(), cached_options());
}
void BM_CheckMeshSite100kCached(benchmark::State& state) {
  const MeshCacheOn on;
  warm(mesh_site());
  run_check(state, mesh_site(), cached_options());
}
void BM_CheckMeshSite100kPipesCached(benchmark::State& state) {
  const MeshCacheOn on;
  warm(pipes_site());
  run_check(state, pipes_site(), cached_options());
}

}  // namespace

BENCHMARK(BM_CheckDemoPlant)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckImportedDemoPlant)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_LoadMeshSite100k)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckMeshSite100k)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckMeshSite100kPipes)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_LoadMeshSite100kCached)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckDemoPlantCached)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckMeshSite100kCached)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckMeshSite100kPipesCached)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
